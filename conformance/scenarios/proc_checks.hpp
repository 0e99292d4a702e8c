// proc_checks.hpp: what the driver reads of an agent's processes in /proc (Linux only).
//
// Black-box checks no reply can show: what an agent holds (descriptors, threads, children), how
// its descriptors are flagged, what it does with SIGPIPE. Each check is one function, so a driver
// built for another platform replaces this file alone; every function says "unknown" (-1,
// nullopt, known() false) where /proc cannot tell, and a scenario then makes no claim from it.
// Scenarios that rely on them declare needs::linux_proc(...).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "process.hpp"  // pid_t on every platform

namespace npipe::conformance::proc {

// What an agent process holds; -1 where unknown. For "leaves no descriptor, thread or child
// behind" (FIFO-OPEN-3, ERR-5).
struct holdings {
  int fds = -1;
  int threads = -1;  // threads not yet exiting (see live_threads)
  // Of those, the threads in an open system call (open, openat, openat2 in
  // /proc/PID/task/TID/syscall): an open that goes on after its caller was told `timeout`.
  int threads_in_open = -1;
  int children = -1;
  bool known() const { return fds >= 0; }
  std::string describe() const;
};
holdings holdings_of(pid_t pid);

// The threads of `pid` that are not exiting. A thread that pthread_join() has just returned for
// can still be listed in /proc/PID/task for a moment: the kernel wakes the joiner from the
// thread's exit path (mm_release, from exit_mm in do_exit) before it removes the task
// (release_task). The thread's flags have PF_EXITING (0x4) from exit_signals(), earlier in
// do_exit, so a thread carrying it is not counted. -1 when /proc cannot tell.
int live_threads(pid_t pid);

// The descriptors a process has open (the names in /proc/PID/fd); nullopt when unreadable.
std::optional<std::set<int>> open_fds(pid_t pid);
// Whether descriptor `fd` of `pid` has close-on-exec (O_CLOEXEC in the "flags:" line of
// /proc/PID/fdinfo/FD); nullopt when unreadable (closed meanwhile, or no /proc).
std::optional<bool> close_on_exec(pid_t pid, int fd);
// What /proc/PID/fd/FD points to ("pipe:[123]", "socket:[45]", a path), for messages.
std::string fd_target(pid_t pid, int fd);

// SIGPIPE as the kernel sees it for a process: ignored or caught process-wide (SigIgn, SigCgt
// of /proc/PID/status), and whether the thread that runs the agent's commands blocks it (SigBlk of
// /proc/PID/task/TID/status). That thread is read only while it waits for its next command (asleep
// in a read of fd 0): while it answers, a correct agent may block SIGPIPE around its own write to
// stdout, and the driver can see the reply before the mask is restored.
struct sigpipe_state {
  bool ignored = false;
  bool caught = false;
  std::optional<bool> command_thread_blocks;  // nullopt: not seen waiting on stdin in time
  std::string describe() const;
};
// Waits up to `limit` for a thread of `pid` to be asleep in read(0), then reads the state;
// nullopt when /proc cannot be read at all.
std::optional<sigpipe_state> sigpipe_of(pid_t pid, int limit_ms);
// What changed from `before` to `after` ("" when nothing did); the mask only when both know it.
std::string sigpipe_changes(const sigpipe_state& before, const sigpipe_state& after);

}  // namespace npipe::conformance::proc
