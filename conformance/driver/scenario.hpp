// scenario.hpp: what a scenario is and the vocabulary its body is written in.
//
//   NPIPE_SCENARIO(fifo_open, read_blocks_until_writer, "FIFO-OPEN-1", "fifo", "owner peer",
//                  "A blocking open for reading waits for a writer") {
//     auto owner = s.owner().ok({{"op", "create"}, {"name", s.path("f")}, {"dir", "r"}});
//     call open = s.owner().start({{"op", "open"}, {"owner", owner["handle"]}, {"dir", "r"}});
//     s.expect_pending(open, "the owner's open for reading with no writer");
//     s.peer().ok({{"op", "open"}, {"name", s.path("f")}, {"dir", "w"}});
//     open.ok();
//   }
//
// Roles are played by agents of the implementations the runner assigns (see plan.hpp); `s`
// spawns each agent on first use. Every check that fails throws, so a body reads as the list of
// what must happen, in order.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent.hpp"
#include "outcome.hpp"

namespace npipe::conformance {

class scene;

// What a scenario needs of its agents' platform beyond what its requirements say: the driver
// can make some checks only against some agents (a stat of the path, a raw AF_UNIX peer, umask
// and modes, symlinks, /proc). A run whose agents are on another platform is SKIP with `why`
// (spec/driver-protocol.md section 9.1: not run for the platform), never FAIL or N/A.
struct scenario_needs {
  std::string platforms = "all";  // "all", "posix" (any agent not on windows), "linux", ...
  std::string why;                // what the driver needs there: "the driver's raw AF_UNIX peer"
  bool met_by(const std::string& agent_platform) const;
};
namespace needs {
// The scenario runs against every agent.
inline scenario_needs any() {
  return {};
}
// The driver's checks work only against an agent on POSIX (a path it can stat, a socket it can
// connect to itself), or the scenario checks an outcome the spec gives differently on Windows.
inline scenario_needs posix(const char* why) {
  return {"posix", why};
}
// The driver reads the agent's /proc (Linux only).
inline scenario_needs linux_proc(const char* why) {
  return {"linux", why};
}
// The scenario checks what the spec says for Windows agents only.
inline scenario_needs windows(const char* why) {
  return {"windows", why};
}
}  // namespace needs

struct scenario_def {
  std::string group;  // "fifo_open"
  std::string name;   // "fifo_open.read_blocks_until_writer"
  std::string short_name;
  std::vector<std::string> requirements;
  std::string profile;             // "fifo" or "channel"
  std::vector<std::string> roles;  // "owner", "peer" or just "agent"
  scenario_needs needs;
  std::string title;
  void (*body)(scene&);
};

// Every scenario linked into the binary, in registration order.
std::vector<scenario_def>& scenario_registry();

struct registrar {
  registrar(const char* group, const char* name, const char* reqs, const char* profile,
            const char* roles, const char* title, void (*body)(scene&))
      : registrar(group, name, reqs, profile, roles, needs::any(), title, body) {}
  registrar(const char* group, const char* name, const char* reqs, const char* profile,
            const char* roles, scenario_needs needs, const char* title, void (*body)(scene&));
};

// NPIPE_SCENARIO(GROUP, NAME, "REQUIREMENT-IDS", "PROFILE", "ROLES", [NEEDS,] "TITLE") { body }
// The requirement IDs are named here once (spec/tools/check_requirements.py reads this third
// argument, wherever the line breaks fall); NEEDS is optional (see scenario_needs).
#define NPIPE_SCENARIO(GROUP, NAME, REQS, PROFILE, ROLES, ...)                   \
  static void GROUP##_##NAME##_body(::npipe::conformance::scene& s);             \
  static const ::npipe::conformance::registrar GROUP##_##NAME##_registrar(       \
      #GROUP, #NAME, REQS, PROFILE, ROLES, __VA_ARGS__, &GROUP##_##NAME##_body); \
  static void GROUP##_##NAME##_body([[maybe_unused]] ::npipe::conformance::scene& s)

// A command in flight on one agent.
class call {
 public:
  call(scene& s, agent& a, std::string what) : s_(&s), a_(&a), what_(std::move(what)) {}
  // The reply, within the step deadline. `unsupported` makes the scenario N/A; an error name
  // outside the vocabulary fails it (ERR-1).
  json reply();
  // The reply as it came, `unsupported` included (for ERR-6: what such an answer left behind);
  // an error name outside the vocabulary still fails the scenario (ERR-1).
  json answer();
  // Expects success and returns the reply.
  json ok();
  // Expects failure with this portable error name.
  json fails(const std::string& error);
  // Expects failure with one of these names.
  json fails_one_of(const std::vector<std::string>& errors);
  agent& who() const { return *a_; }
  const std::string& what() const { return what_; }

 private:
  scene* s_;
  agent* a_;
  std::string what_;
};

// One role's agent, as the body sees it.
class actor {
 public:
  actor(scene& s, agent& a) : s_(&s), a_(&a) {}
  call start(json cmd);
  json ok(json cmd) { return start(std::move(cmd)).ok(); }
  json fails(json cmd, const std::string& error) { return start(std::move(cmd)).fails(error); }
  json reply(json cmd) { return start(std::move(cmd)).reply(); }
  // `bye`: expects ok, then a prompt exit with status 0.
  void bye();
  // SIGKILL to the agent's whole process group, then reaped.
  void kill();
  pid_t pid() const;
  const implementation& impl() const { return a_->impl(); }
  // The platform the agent announced in hello ("linux", "windows", ...).
  std::string platform() const;
  bool posix() const { return platform() != "windows"; }
  agent& raw() { return *a_; }

 private:
  scene* s_;
  agent* a_;
};

struct scene_options {
  std::chrono::milliseconds step_timeout{5000};
  std::chrono::milliseconds pending_limit{3000};  // how long /proc may take to prove a block
  std::chrono::milliseconds pending_grace{300};   // "no reply" period where /proc cannot tell
  std::string dir;                                // the scenario's private directory
  // Non-empty for agents on Windows: names are "\\.\pipe\" + pipe_prefix + leaf
  // (spec/driver-protocol.md section 3), not paths in `dir`.
  std::string pipe_prefix;
  // Where /proc cannot tell what the agents do (not Linux, or Wine): the grace period decides.
  bool grace_only = false;
  std::string log_dir;  // where agents' stderr logs go
};

class scene {
 public:
  scene(const scenario_def& def, std::map<std::string, const implementation*> roles,
        scene_options opts);
  ~scene();
  scene(const scene&) = delete;
  scene& operator=(const scene&) = delete;

  // The agent playing `role`; index > 0 gives further agents of the same implementation (for
  // example several writers). Spawned on first use, with `umask` when given.
  // `cwd` starts the agent in that directory (the private one, for relative names).
  actor& role(const std::string& role, int index = 0, std::optional<unsigned> umask = {},
              const std::string& cwd = "");
  actor& owner(int index = 0) { return role("owner", index); }
  actor& peer(int index = 0) { return role("peer", index); }
  actor& agent1() { return role("agent"); }
  const implementation& impl_of(const std::string& role) const;

  // A name for the agents: a path inside the scenario's private directory, or for Windows
  // agents \\.\pipe\npipe-<unique>-<leaf>.
  std::string path(const std::string& leaf) const {
    return opts_.pipe_prefix.empty() ? opts_.dir + "/" + leaf
                                     : "\\\\.\\pipe\\" + opts_.pipe_prefix + leaf;
  }
  const std::string& dir() const { return opts_.dir; }
  // Marks a path the driver made itself, so the left-over check does not blame the agents.
  void driver_made(const std::string& path) { driver_made_.insert(path); }

  // Proves that `c` is blocked (see blocked.hpp); fails when it completed instead.
  void expect_pending(call& c, const std::string& what);
  // Fails with `message` unless `cond`.
  void expect(bool cond, const std::string& message, std::vector<std::string> extra = {});
  [[noreturn]] void fail(const std::string& message, std::vector<std::string> extra = {});
  // A line kept in the result's message even when the scenario passes.
  void note(const std::string& line) { notes_.push_back(line); }
  const std::vector<std::string>& notes() const { return notes_; }

  // A driver-side socket or descriptor: closed with the scene, shut down by the watchdog.
  int adopt_fd(int fd);
  void close_fd(int fd);

  const scene_options& options() const { return opts_; }
  // For bulk transfers: every step of this scenario may take `factor` times the step deadline,
  // so a slow machine moving megabytes through a Python agent is not called hung.
  void allow_slow_steps(int factor);
  const scenario_def& def() const { return def_; }

  // Runner hooks.
  void kill_everything() noexcept;  // the watchdog's hammer; callable from another thread
  // Ends every live agent the clean way (EOF on stdin) and checks it left nothing behind.
  void finish_agents();
  std::vector<std::string> log_paths() const;
  std::set<std::string> driver_made_paths() const { return driver_made_; }

 private:
  [[noreturn]] void completed_early(call& c, const std::string& what, const json& reply);
  const scenario_def& def_;
  std::map<std::string, const implementation*> roles_;
  scene_options opts_;
  std::map<std::string, std::unique_ptr<agent>> agents_;  // by "role#index"
  std::map<std::string, std::unique_ptr<actor>> actors_;
  std::vector<std::string> order_;
  std::set<std::string> driver_made_;
  std::vector<std::string> notes_;
  std::mutex mu_;  // guards killers_ and fds_ against the watchdog thread
  std::vector<std::shared_ptr<group_killer>> killers_;
  std::set<int> fds_;
};

// The portable error vocabulary (spec/driver-protocol.md section 4).
bool is_vocabulary_error(const std::string& name);

}  // namespace npipe::conformance
