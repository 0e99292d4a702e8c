// process.cpp: posix_spawn of one agent in its own process group (see process.hpp).
#include "process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace npipe::conformance {

namespace {

// The groups of live agents, for kill_all_agent_groups(): plain atomics, usable from a handler.
constexpr int kMaxLive = 512;
std::atomic<pid_t> live_groups[kMaxLive];

void remember(pid_t pgid) {
  for (auto& slot : live_groups) {
    pid_t empty = 0;
    if (slot.compare_exchange_strong(empty, pgid)) return;
  }
}

void forget(pid_t pgid) {
  for (auto& slot : live_groups) {
    pid_t want = pgid;
    if (slot.compare_exchange_strong(want, 0)) return;
  }
}

}  // namespace

void kill_all_agent_groups() noexcept {
  for (auto& slot : live_groups) {
    pid_t g = slot.load();
    if (g > 0) ::kill(-g, SIGKILL);
  }
}

std::string exit_info::describe() const {
  if (signalled) {
    const char* name = sigdescr_np(signal);
    return "killed by signal " + std::to_string(signal) + " (" + (name ? name : "?") + ")";
  }
  return "exited with status " + std::to_string(code);
}

namespace {

exit_info decode(int status) {
  exit_info e;
  if (WIFSIGNALED(status)) {
    e.signalled = true;
    e.signal = WTERMSIG(status);
  } else {
    e.code = WEXITSTATUS(status);
  }
  return e;
}

void check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(std::string(what) + ": " + std::strerror(rc));
}

}  // namespace

process::process(const options& opts) {
  int in_pipe[2];
  int out_pipe[2];
  // O_CLOEXEC: no other agent may inherit our ends, or EOF on an agent's stdin would never come.
  if (pipe2(in_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    ::close(in_pipe[0]);
    ::close(in_pipe[1]);
    throw std::runtime_error("pipe2 failed");
  }

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_adddup2(&fa, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, opts.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  // A process group of its own, so the whole agent (wrappers, helpers) can be killed at once.
  posix_spawnattr_setpgroup(&attr, 0);
  // The driver ignores SIGPIPE, and an ignored disposition survives exec: reset it, or an agent
  // that forgot to protect itself (FIFO-PIPE-1) would look correct here and die in production.
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGCHLD);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::string script;
  if (opts.umask) {
    std::ostringstream o;
    o << "umask " << std::oct << *opts.umask << "; ";
    script = o.str();
  }
  if (!opts.cwd.empty()) script += "cd '" + opts.cwd + "' && ";
  script += "exec " + opts.command;
  const char* argv[] = {"/bin/sh", "-c", script.c_str(), nullptr};
  int rc = posix_spawn(&pid_, "/bin/sh", &fa, &attr, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  if (rc != 0) {
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    check(rc, "posix_spawn");
  }
  in_ = in_pipe[1];
  out_ = out_pipe[0];
  remember(pid_);
}

process::~process() {
  close_stdin();
  if (out_ >= 0) ::close(out_);
  kill_group();
  if (!exit_) wait_exit(std::chrono::milliseconds(5000));
  forget(pid_);
}

void process::close_stdin() noexcept {
  if (in_ >= 0) ::close(in_);
  in_ = -1;
}

std::optional<exit_info> process::try_reap() {
  if (exit_) return exit_;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) exit_ = decode(status);
  return exit_;
}

std::optional<exit_info> process::wait_exit(std::chrono::milliseconds limit) {
  if (try_reap()) return exit_;
  auto end = std::chrono::steady_clock::now() + limit;
#ifdef SYS_pidfd_open
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd >= 0) {
    while (!try_reap()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      end - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) break;
      pollfd p{pidfd, POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(left));
    }
    ::close(pidfd);
    return exit_;
  }
#endif
  // No pidfd: poll the child's state. This is waiting for an event, not a timing assumption.
  while (!try_reap() && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return exit_;
}

void process::kill_group() noexcept {
  if (pid_ > 0) {
    ::kill(-pid_, SIGKILL);
    if (!exit_) ::kill(pid_, SIGKILL);
  }
}

void process::signal(int sig) noexcept {
  if (pid_ > 0 && !exit_) ::kill(pid_, sig);
}

std::vector<pid_t> process::group_members() const {
  std::vector<pid_t> out;
  for (pid_t p : processes_in_group(pid_))
    if (p != pid_ || !exit_) out.push_back(p);
  return out;
}

std::vector<pid_t> processes_in_group(pid_t pgid) {
  std::vector<pid_t> out;
  DIR* d = opendir("/proc");
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end) continue;
    std::ifstream f(std::string("/proc/") + e->d_name + "/stat");
    std::string line;
    if (!std::getline(f, line)) continue;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    std::string state;
    long ppid = 0, pgrp = 0;
    rest >> state >> ppid >> pgrp;
    if (pgrp == pgid && state != "Z") out.push_back(static_cast<pid_t>(pid));
  }
  closedir(d);
  return out;
}

}  // namespace npipe::conformance
