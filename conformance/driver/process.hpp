// process.hpp: one agent process and everything it starts, behind one interface with a POSIX and
// a Windows implementation (posix/process.cpp, win32/process.cpp), in the libuv style: nothing
// platform-specific above this line.
//
// POSIX: posix_spawn of `/bin/sh -c "exec COMMAND"` in a process group of its own; killing the
// group (SIGKILL to -pgid) takes every process the agent started, so a wrapper script or a forked
// helper cannot outlive its scenario. stdin and stdout are pipes held by the driver (O_CLOEXEC).
// Windows: CreateProcessW of COMMAND (no shell; the first word is the program, searched as
// CreateProcess does), created suspended and put into a Job Object of its own before it runs, so
// every process it starts is in the job too; TerminateJobObject kills them all, and
// JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE kills them if the driver itself dies. stdin and stdout are
// anonymous pipes; the inheritable ends exist only while one process is being created (a lock),
// so no agent inherits another's pipe, or EOF on its stdin would never come.
// Both: stderr goes to a log file kept for the report.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#ifndef _WIN32
#include <sys/types.h>
#endif

namespace npipe::conformance {

#ifdef _WIN32
using pid_t = unsigned long;  // a Windows process id (DWORD)
#endif

// How a process ended.
struct exit_info {
  bool signalled = false;  // POSIX: killed by a signal
  int code = 0;            // exit status when !signalled (Windows: the exit code, as an int)
  int signal = 0;          // the signal number when signalled
  std::string describe() const;
};

// Kills a process's whole group from any thread, for as long as it is held, even after the
// process object is gone (then it kills nothing: the group was reaped with it). For the watchdog.
class group_killer {
 public:
  virtual ~group_killer() = default;
  virtual void kill() noexcept = 0;
};

class process {
 public:
  struct options {
    std::string command;            // POSIX: a shell command line; Windows: a CreateProcess one
    std::string log_path;           // stderr goes here (created or truncated)
    std::optional<unsigned> umask;  // POSIX: set by the shell before exec (permission scenarios)
    std::string cwd;                // "" keeps the driver's; else the agent starts there
  };

  // Throws std::runtime_error when the process cannot be started at all.
  explicit process(const options& opts);
  process(const process&) = delete;
  process& operator=(const process&) = delete;
  // Kills the group and reaps the process.
  ~process();

  pid_t pid() const noexcept;

  enum class io { ok, timeout, closed };
  // Writes all of `bytes` to the agent's stdin. `closed`: the agent no longer reads it (gone).
  // `timeout`: it stopped reading and `deadline` passed (POSIX; on Windows a write to a full
  // pipe waits until the agent reads or dies, and the scenario's watchdog bounds that).
  io write_stdin(std::string_view bytes, std::chrono::steady_clock::time_point deadline);
  // Appends what the agent wrote to its stdout, waiting up to `limit` for something. `closed`:
  // EOF (the agent closed its stdout, or died).
  io read_stdout(std::string& out, std::chrono::milliseconds limit);
  // Whether the agent has read everything written to its stdin (so a command is no longer in
  // the pipe but in the agent's hands); nullopt where the platform cannot tell.
  std::optional<bool> stdin_drained() const;
  void close_stdin() noexcept;

  // Reaps the process when it has exited; never blocks.
  std::optional<exit_info> try_reap();
  // Waits until the process exits or `limit` passes.
  std::optional<exit_info> wait_exit(std::chrono::milliseconds limit);
  // Kills the whole group (idempotent; the group may already be gone).
  void kill_group() noexcept;
  // For the watchdog: kills this group from another thread (see group_killer).
  std::shared_ptr<group_killer> killer() const;
  // Other processes still alive in the agent's group (its children, grandchildren), and the
  // agent itself while it has not been reaped. Linux: from /proc; Windows: the job's process
  // list; elsewhere empty (not known).
  std::vector<pid_t> group_members() const;
#ifndef _WIN32
  // Sends a signal to the agent process only.
  void signal(int sig) noexcept;
#endif

  std::optional<exit_info> exit_status() const;

  struct state;  // the platform's (posix/process.cpp, win32/process.cpp)

 private:
  std::unique_ptr<state> st_;
};

// Kills every agent group still alive: for the driver's own ^C / SIGTERM clean-up (agents live in
// groups or jobs of their own, so a terminal's ^C never reaches them). POSIX: async-signal-safe.
void kill_all_agent_groups() noexcept;

// Every process in process group `pgid`, found by scanning /proc (Linux); empty elsewhere.
std::vector<pid_t> processes_in_group(pid_t pgid);

}  // namespace npipe::conformance
