// blocked.hpp: proving that an agent is blocked inside a command, without sleeping.
//
// On Linux the proof reads /proc: every thread of every process in the agent's group is asleep
// (state S or D) inside a system call (/proc/PID/task/TID/syscall is not "running"), at least one
// of them in a call other than reading its stdin, and the command has left the stdin pipe. Seen on
// several consecutive samples, that is the agent waiting inside the operation. Where /proc cannot
// say, the caller falls back to a grace period with no reply. Both can only err towards calling a
// slow agent "blocked" (a false pass), never towards a false failure.
#pragma once

#include <optional>
#include <vector>

#include "process.hpp"

namespace npipe::conformance {

enum class block_sample {
  blocked,  // every thread is asleep in a system call that is not the stdin read
  busy,     // some thread runs, or only the stdin read is waited on, or input is unread
  unknown,  // /proc gave nothing usable (not Linux, or the process is gone)
};

// One look at the agent's processes `pids` (its process group, found with processes_in_group(),
// which scans all of /proc and so is refreshed only now and then); `command_read`: whether its
// stdin pipe is empty (process::stdin_drained()). Linux only: `unknown` elsewhere.
block_sample sample_blocked(const std::vector<pid_t>& pids, std::optional<bool> command_read);

}  // namespace npipe::conformance
