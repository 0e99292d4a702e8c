// proc_checks.cpp: the driver's reads of /proc (see proc_checks.hpp). Linux only.
#include "proc_checks.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "process.hpp"

namespace npipe::conformance::proc {
namespace {

std::string base(pid_t pid) {
  return "/proc/" + std::to_string(pid);
}

// The numeric names of a /proc directory (fd/, task/); nullopt when it cannot be read.
std::optional<std::vector<long>> numeric_entries(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (!d) return std::nullopt;
  std::vector<long> out;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long n = std::strtol(e->d_name, &end, 10);
    if (end != e->d_name && *end == '\0') out.push_back(n);
  }
  closedir(d);
  return out;
}

// The value of "Key:" in a /proc status-like file, or "".
std::string field_of(const std::string& path, const std::string& key) {
  std::ifstream f(path);
  for (std::string line; std::getline(f, line);)
    if (line.rfind(key + ":", 0) == 0) {
      std::string v = line.substr(key.size() + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  return "";
}

// Whether a hexadecimal signal set of /proc/PID/status ("SigIgn:\t0000000000001000") holds sig.
std::optional<bool> has_signal(const std::string& hex, int sig) {
  if (hex.empty()) return std::nullopt;
  unsigned long long mask = std::strtoull(hex.c_str(), nullptr, 16);
  return ((mask >> (sig - 1)) & 1ull) != 0;
}

// Field 9 of /proc/PID/task/TID/stat: the kernel's task flags (PF_*).
std::optional<unsigned long> task_flags(pid_t pid, long tid) {
  std::ifstream f(base(pid) + "/task/" + std::to_string(tid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return std::nullopt;
  auto close = line.rfind(')');  // the command name may hold spaces and ')'
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 2));
  std::string state;
  long ppid, pgrp, session, tty, tpgid;
  unsigned long flags = 0;
  if (!(rest >> state >> ppid >> pgrp >> session >> tty >> tpgid >> flags)) return std::nullopt;
  return flags;
}

constexpr unsigned long kPfExiting = 0x00000004;  // include/linux/sched.h

// The system call a thread is in, from /proc/PID/task/TID/syscall: its number and first
// argument; nullopt when the file says "running" or cannot be read, number -1 when the thread is
// in no call (proc(5)). The numbers are this driver's architecture's, which is the agent's (both
// run here).
struct call_in_progress {
  long nr = -1;
  std::string arg0;
};
std::optional<call_in_progress> syscall_of(pid_t pid, long tid) {
  std::ifstream f(base(pid) + "/task/" + std::to_string(tid) + "/syscall");
  call_in_progress c;
  if (!(f >> c.nr >> c.arg0)) return std::nullopt;
  return c;
}

bool is_open_call(long nr) {
#ifdef SYS_open
  if (nr == SYS_open) return true;
#endif
#ifdef SYS_openat2
  if (nr == SYS_openat2) return true;
#endif
  return nr == SYS_openat;
}

// The live threads of `pid` (see live_threads) and, of those, the ones in an open system call,
// from one listing of /proc/PID/task; -1 for both when it cannot be read.
struct thread_count {
  int live = -1;
  int in_open = -1;
};
thread_count count_threads(pid_t pid) {
  auto tids = numeric_entries(base(pid) + "/task");
  if (!tids) return {};
  thread_count n{0, 0};
  for (long tid : *tids) {
    auto flags = task_flags(pid, tid);
    // Gone between the listing and the read: it was exiting too.
    if (!flags || (*flags & kPfExiting)) continue;
    ++n.live;
    auto call = syscall_of(pid, tid);
    if (call && is_open_call(call->nr)) ++n.in_open;
  }
  return n;
}

}  // namespace

std::string holdings::describe() const {
  return std::to_string(fds) + " fds, " + std::to_string(threads) + " threads (" +
         std::to_string(threads_in_open) + " in open()), " + std::to_string(children) + " children";
}

int live_threads(pid_t pid) {
  return count_threads(pid).live;
}

holdings holdings_of(pid_t pid) {
  holdings h;
  auto fds = open_fds(pid);
  if (!fds) return h;
  h.fds = static_cast<int>(fds->size());
  thread_count threads = count_threads(pid);
  h.threads = threads.live;
  h.threads_in_open = threads.in_open;
  // Children: the other processes of its group (the agent runs in a group of its own).
  h.children = static_cast<int>(processes_in_group(pid).size()) - 1;
  return h;
}

std::optional<std::set<int>> open_fds(pid_t pid) {
  auto entries = numeric_entries(base(pid) + "/fd");
  if (!entries) return std::nullopt;
  std::set<int> out;
  for (long fd : *entries)
    out.insert(static_cast<int>(fd));
  return out;
}

std::optional<bool> close_on_exec(pid_t pid, int fd) {
  // "flags:\t02100002": the file's open flags in octal, O_CLOEXEC included (proc(5)).
  std::string v = field_of(base(pid) + "/fdinfo/" + std::to_string(fd), "flags");
  if (v.empty()) return std::nullopt;
  unsigned long flags = std::strtoul(v.c_str(), nullptr, 8);
  return (flags & O_CLOEXEC) != 0;
}

std::string fd_target(pid_t pid, int fd) {
  char buf[512];
  std::string link = base(pid) + "/fd/" + std::to_string(fd);
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  return n < 0 ? "?" : std::string(buf, static_cast<std::size_t>(n));
}

std::string sigpipe_state::describe() const {
  std::string s = ignored ? "ignored" : caught ? "caught by a handler" : "default";
  if (command_thread_blocks)
    s += *command_thread_blocks ? ", blocked in the command thread"
                                : ", not blocked in the command thread";
  return s;
}

namespace {

// The thread of `pid` asleep in read(0) (waiting for the next command), or -1.
long thread_waiting_on_stdin(pid_t pid) {
  auto tids = numeric_entries(base(pid) + "/task");
  if (!tids) return -1;
  for (long tid : *tids) {
    std::string dir = base(pid) + "/task/" + std::to_string(tid);
    std::ifstream st(dir + "/stat");
    std::string line;
    if (!std::getline(st, line)) continue;
    auto close = line.rfind(')');
    if (close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'S') continue;
    auto call = syscall_of(pid, tid);
    if (call && call->nr == SYS_read && (call->arg0 == "0x0" || call->arg0 == "0")) return tid;
  }
  return -1;
}

}  // namespace

std::optional<sigpipe_state> sigpipe_of(pid_t pid, int limit_ms) {
  // The command thread is looked for first: the disposition cannot change while it waits.
  long tid = -1;
  for (int waited = 0; (tid = thread_waiting_on_stdin(pid)) < 0 && waited < limit_ms; waited += 2)
    ::poll(nullptr, 0, 2);
  std::string status = base(pid) + "/status";
  auto ign = has_signal(field_of(status, "SigIgn"), SIGPIPE);
  auto cgt = has_signal(field_of(status, "SigCgt"), SIGPIPE);
  if (!ign || !cgt) return std::nullopt;
  sigpipe_state st;
  st.ignored = *ign;
  st.caught = *cgt;
  if (tid >= 0)
    st.command_thread_blocks = has_signal(
        field_of(base(pid) + "/task/" + std::to_string(tid) + "/status", "SigBlk"), SIGPIPE);
  return st;
}

std::string sigpipe_changes(const sigpipe_state& before, const sigpipe_state& after) {
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : "; ") + s; };
  auto name = [](const sigpipe_state& x) {
    return std::string(x.ignored ? "ignored" : x.caught ? "caught" : "default");
  };
  if (name(before) != name(after))
    add("the process-wide SIGPIPE disposition went from " + name(before) + " to " + name(after));
  if (before.command_thread_blocks && after.command_thread_blocks &&
      *before.command_thread_blocks != *after.command_thread_blocks)
    add(std::string("the thread that runs commands ") +
        (*after.command_thread_blocks ? "now blocks" : "no longer blocks") + " SIGPIPE");
  return out;
}

}  // namespace npipe::conformance::proc
