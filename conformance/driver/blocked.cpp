// blocked.cpp: /proc sampling for "the agent is blocked" (see blocked.hpp). Linux only.
#include "blocked.hpp"

#ifdef __linux__

#include <dirent.h>
#include <sys/syscall.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "process.hpp"

namespace npipe::conformance {
namespace {

// The state letter of /proc/.../stat ("S", "R", "D", ...), "" when unreadable.
std::string thread_state(const std::string& dir) {
  std::ifstream f(dir + "/stat");
  std::string line;
  if (!std::getline(f, line)) return "";
  auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return "";
  return line.substr(close + 2, 1);
}

// Classifies one thread from its syscall file: 1 blocked in an operation, 0 idle on stdin
// (read of fd 0: the agent waits for its next command), -1 running or unknown.
int thread_syscall(const std::string& dir) {
  std::ifstream f(dir + "/syscall");
  std::string line;
  if (!std::getline(f, line)) return -1;
  std::istringstream in(line);
  long nr = -1;
  if (!(in >> nr) || nr < 0) return -1;  // "running", or "-1 sp pc" (not in a system call)
  std::string arg0;
  in >> arg0;
#ifdef SYS_read
  if (nr == SYS_read && (arg0 == "0x0" || arg0 == "0")) return 0;
#endif
  return 1;
}

std::vector<std::string> tasks_of(pid_t pid) {
  std::vector<std::string> out;
  std::string base = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(base.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') out.push_back(base + "/" + e->d_name);
  closedir(d);
  return out;
}

}  // namespace

block_sample sample_blocked(const std::vector<pid_t>& pids, std::optional<bool> command_read) {
  // The command must have been read: a byte still in the pipe means the agent has not started it.
  if (command_read == false) return block_sample::busy;
  if (pids.empty()) return block_sample::unknown;
  bool in_operation = false;
  for (pid_t p : pids) {
    auto tasks = tasks_of(p);
    if (tasks.empty()) return block_sample::unknown;
    for (const auto& t : tasks) {
      std::string st = thread_state(t);
      if (st.empty()) return block_sample::unknown;
      if (st != "S" && st != "D") return block_sample::busy;
      int sc = thread_syscall(t);
      if (sc < 0) return block_sample::busy;
      if (sc == 1) in_operation = true;
    }
  }
  return in_operation ? block_sample::blocked : block_sample::busy;
}

}  // namespace npipe::conformance

#else  // no /proc: the caller's grace period decides

namespace npipe::conformance {

block_sample sample_blocked(const std::vector<pid_t>&, std::optional<bool>) {
  return block_sample::unknown;
}

}  // namespace npipe::conformance

#endif
