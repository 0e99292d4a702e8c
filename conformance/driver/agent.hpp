// agent.hpp: one running agent and the JSON-lines conversation with it (spec/driver-protocol.md).
//
// Every wait has a deadline. An agent that dies while the driver waits is agent_crash, one that
// does not answer in time is agent_timeout, one that writes anything but the reply in flight is
// agent_protocol; in each case the agent's process group is killed before the exception leaves.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "implementation.hpp"
#include "process.hpp"

namespace npipe::conformance {

using json = nlohmann::json;
using std::chrono::milliseconds;

class agent {
 public:
  struct options {
    std::string role;  // "owner", "peer#2", ... for messages
    const implementation* impl = nullptr;
    std::string log_path;
    std::optional<unsigned> umask;
    std::string cwd;
    milliseconds step_timeout{5000};
  };

  // Starts the agent and runs `hello`; throws like any step.
  explicit agent(const options& opts);
  agent(const agent&) = delete;
  agent& operator=(const agent&) = delete;

  const std::string& role() const noexcept { return opts_.role; }
  const implementation& impl() const noexcept { return *opts_.impl; }
  const json& hello() const noexcept { return hello_; }
  // "owner (reference-posix)": how messages name this agent.
  std::string label() const { return opts_.role + " (" + opts_.impl->name + ")"; }
  process& proc() noexcept { return *proc_; }
  milliseconds step_timeout() const noexcept { return opts_.step_timeout; }
  void set_step_timeout(milliseconds t) noexcept { opts_.step_timeout = t; }

  // Sends a command (an "id" is added) and returns the id. One command at a time: sending while
  // another is in flight is a bug in the scenario (std::logic_error).
  int send(json cmd);
  // The id of the command in flight, or 0.
  int in_flight() const noexcept { return in_flight_; }
  // Waits up to `limit` for the reply to the command in flight; nullopt when none came in time
  // (the command stays in flight). Throws agent_crash / agent_protocol.
  std::optional<json> poll_reply(milliseconds limit);
  // Waits for the reply within the step deadline, else kills the agent: agent_timeout.
  json wait_reply(const std::string& what);

  // The sent command, for messages.
  const json& last_command() const noexcept { return last_; }

  // Closes stdin and waits for a clean exit (the end of a session), true when it exited 0.
  std::optional<exit_info> finish(milliseconds limit);
  bool alive();
  // Kills the whole group now (SIGKILL) and reaps it.
  void kill();
  // The last lines of its stderr log, for failure messages.
  std::string stderr_tail(std::size_t max_bytes = 1200) const;

 private:
  [[noreturn]] void crashed(const std::string& while_doing);
  [[noreturn]] void protocol(const std::string& why);

  options opts_;
  std::unique_ptr<process> proc_;
  json hello_;
  json last_;
  int next_id_ = 1;
  int in_flight_ = 0;
  std::string buf_;  // bytes read from stdout, not yet a full line
};

}  // namespace npipe::conformance
