// process.hpp: one agent process, started with posix_spawn in a process group of its own.
//
// The driver owns the group: killing it (SIGKILL to -pgid) takes every process the agent started,
// so a wrapper script or a forked helper cannot outlive its scenario. stdin and stdout are pipes
// held by the driver; stderr goes to a log file kept for the report.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace npipe::conformance {

// How a process ended.
struct exit_info {
  bool signalled = false;
  int code = 0;    // exit status when !signalled
  int signal = 0;  // the signal number when signalled
  std::string describe() const;
};

class process {
 public:
  struct options {
    std::string command;            // a shell command line, run as `/bin/sh -c "exec COMMAND"`
    std::string log_path;           // stderr goes here (created or truncated)
    std::optional<unsigned> umask;  // set by the shell before exec, for permission scenarios
    std::string cwd;                // "" keeps the driver's; else the shell cd's there first
  };

  // Throws std::runtime_error when the process cannot be started at all.
  explicit process(const options& opts);
  process(const process&) = delete;
  process& operator=(const process&) = delete;
  // Kills the group and reaps the process.
  ~process();

  pid_t pid() const noexcept { return pid_; }
  int stdin_fd() const noexcept { return in_; }
  int stdout_fd() const noexcept { return out_; }
  void close_stdin() noexcept;

  // Reaps the process when it has exited; never blocks.
  std::optional<exit_info> try_reap();
  // Waits until the process exits or `limit` passes. Uses a pidfd where the kernel has one.
  std::optional<exit_info> wait_exit(std::chrono::milliseconds limit);
  // SIGKILL to the whole process group (idempotent; the group may already be gone).
  void kill_group() noexcept;
  // Other processes still alive in the agent's group (its children, grandchildren).
  std::vector<pid_t> group_members() const;
  // Sends a signal to the agent process only.
  void signal(int sig) noexcept;

  std::optional<exit_info> exit_status() const { return exit_; }

 private:
  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  std::optional<exit_info> exit_;
};

// SIGKILL to every agent group still alive; async-signal-safe, for the driver's own SIGINT and
// SIGTERM handlers (agents live in groups of their own, so a terminal's ^C never reaches them).
void kill_all_agent_groups() noexcept;

// Every process in process group `pgid`, found by scanning /proc (Linux); empty elsewhere.
std::vector<pid_t> processes_in_group(pid_t pgid);

}  // namespace npipe::conformance
