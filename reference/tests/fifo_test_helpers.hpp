// Helpers shared by the POSIX FIFO tests (fifo_*_test.cpp): leak counters, file inspection, and
// the generic scriptable FIFO peer that runs as a child process (see fifo_peer_child.cpp).
#pragma once

#ifndef _WIN32

#include <dirent.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <cstdint>
#include <fstream>
#include <optional>
#include <string>

#include "support.hpp"

namespace npipe::test::fifo {

using namespace std::chrono_literals;

// Generous bound for "this should happen now" on a loaded 2-core machine; never a sleep.
constexpr std::chrono::milliseconds kReplyTimeout = 15s;

// Threads of this process (for "no thread left behind").
inline int count_threads() {
  DIR* dir = opendir("/proc/self/task");
  if (!dir) return -1;
  int n = 0;
  while (struct dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n;
}

// The system call number the main thread of `pid` is blocked in, from /proc/PID/syscall.
inline std::optional<long> blocked_syscall(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/syscall");
  long nr = -1;
  if (!(in >> nr)) return std::nullopt;
  return nr;
}

// True when some thread of `pid` is blocked in system call `nr` (/proc/PID/task/*/syscall).
inline bool some_thread_in_syscall(int pid, long nr) {
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  DIR* dir = opendir(tasks.c_str());
  if (!dir) return false;
  bool found = false;
  while (struct dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream in(tasks + "/" + e->d_name + "/syscall");
    long n = -1;
    if (in >> n && n == nr) found = true;
  }
  closedir(dir);
  return found;
}

// Waits until every thread of `pid` is asleep and one of them in system call `nr`. Merely
// "asleep" is not enough: a child starting up can sleep briefly elsewhere (seen: mmap).
inline bool wait_until_blocked_in(int pid, long nr, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds(0)) return false;
    if (wait_until_blocked(pid, left) && some_thread_in_syscall(pid, nr)) return true;
  }
}

inline std::optional<struct stat> lstat_of(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return std::nullopt;
  return st;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

// FNV-1a, to compare large transfers across processes.
inline std::uint64_t fnv1a(const void* data, std::size_t n,
                           std::uint64_t h = 1469598103934665603ull) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i)
    h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

// Deterministic bytes: byte i of the stream is pattern_byte(i).
inline unsigned char pattern_byte(std::uint64_t i) {
  return static_cast<unsigned char>((i * 131u + (i >> 8) * 7u + 3u) & 0xff);
}

// A child running the scriptable peer (fifo_peer_child.cpp). It opens `path` for `dir` ("r" or
// "w") with `form` ("forever", "immediate" or a number of milliseconds), prints "opened" or
// "error <errc name>", then runs one command per stdin line and answers one line each.
inline process spawn_peer(const std::string& path, const std::string& dir,
                          const std::string& form = "forever") {
  return process::spawn_self("fifo_peer", {path, dir, form});
}

// Sends one command and returns the peer's one-line answer ("" on timeout/EOF).
inline std::string ask(process& peer, const std::string& command,
                       std::chrono::milliseconds timeout = kReplyTimeout) {
  peer.write_stdin(command + "\n");
  std::string line;
  if (!peer.read_line(line, timeout)) return "";
  return line;
}

inline std::string next_line(process& p, std::chrono::milliseconds timeout = kReplyTimeout) {
  std::string line;
  if (!p.read_line(line, timeout)) return "";
  return line;
}

}  // namespace npipe::test::fifo

#endif  // _WIN32
