// proc_checks.cpp: the driver's reads of /proc (see proc_checks.hpp). Linux only.
#include "proc_checks.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
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

}  // namespace

std::string holdings::describe() const {
  return std::to_string(fds) + " fds, " + std::to_string(threads) + " threads, " +
         std::to_string(children) + " children";
}

int live_threads(pid_t pid) {
  auto tids = numeric_entries(base(pid) + "/task");
  if (!tids) return -1;
  int n = 0;
  for (long tid : *tids) {
    auto flags = task_flags(pid, tid);
    // Gone between the listing and the read: it was exiting too.
    if (flags && !(*flags & kPfExiting)) ++n;
  }
  return n;
}

holdings holdings_of(pid_t pid) {
  holdings h;
  auto fds = open_fds(pid);
  if (!fds) return h;
  h.fds = static_cast<int>(fds->size());
  h.threads = live_threads(pid);
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
  int n = 0;
  for (const auto& [tid, b] : blocked)
    n += b;
  return s + ", blocked in " + std::to_string(n) + " of " + std::to_string(blocked.size()) +
         " threads";
}

std::optional<sigpipe_state> sigpipe_of(pid_t pid) {
  std::string status = base(pid) + "/status";
  auto ign = has_signal(field_of(status, "SigIgn"), SIGPIPE);
  auto cgt = has_signal(field_of(status, "SigCgt"), SIGPIPE);
  auto tids = numeric_entries(base(pid) + "/task");
  if (!ign || !cgt || !tids) return std::nullopt;
  sigpipe_state st;
  st.ignored = *ign;
  st.caught = *cgt;
  for (long tid : *tids) {
    auto blk = has_signal(field_of(base(pid) + "/task/" + std::to_string(tid) + "/status", "SigBlk"),
                          SIGPIPE);
    if (blk) st.blocked[static_cast<pid_t>(tid)] = *blk;
  }
  return st;
}

std::string sigpipe_changes(const sigpipe_state& before, const sigpipe_state& after) {
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : "; ") + s; };
  if (before.ignored != after.ignored || before.caught != after.caught)
    add("the process-wide SIGPIPE disposition went from " +
        std::string(before.ignored ? "ignored" : before.caught ? "caught" : "default") + " to " +
        (after.ignored ? "ignored" : after.caught ? "caught" : "default"));
  for (const auto& [tid, was] : before.blocked) {
    auto it = after.blocked.find(tid);
    if (it != after.blocked.end() && it->second != was)
      add("thread " + std::to_string(tid) + " " + (was ? "no longer blocks" : "now blocks") +
          " SIGPIPE");
  }
  return out;
}

}  // namespace npipe::conformance::proc
