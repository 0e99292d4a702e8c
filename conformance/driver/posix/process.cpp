// posix/process.cpp: posix_spawn of one agent in its own process group (see process.hpp).
#include "process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
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

// The watchdog's handle on one group: disarmed once the process is reaped, so a recycled
// process-group id is never signalled.
class posix_killer : public group_killer {
 public:
  explicit posix_killer(pid_t pgid) : pgid_(pgid) {}
  void kill() noexcept override {
    pid_t g = pgid_.load();
    if (g > 0) ::kill(-g, SIGKILL);
  }
  void disarm() noexcept { pgid_ = 0; }

 private:
  std::atomic<pid_t> pgid_;
};

}  // namespace

struct process::state {
  pid_t pid = -1;
  int in = -1;
  int out = -1;
  std::optional<exit_info> exit;
  std::shared_ptr<posix_killer> killer;
};

void kill_all_agent_groups() noexcept {
  for (auto& slot : live_groups) {
    pid_t g = slot.load();
    if (g > 0) ::kill(-g, SIGKILL);
  }
}

std::string exit_info::describe() const {
  if (signalled) {
    const char* name = ::strsignal(signal);
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

// A pipe whose ends are close-on-exec: no other agent may inherit them, or EOF on an agent's
// stdin would never come. pipe2 where there is one (Linux, the BSDs); macOS has none, and the
// spawn there uses POSIX_SPAWN_CLOEXEC_DEFAULT, which closes every descriptor not dup2'ed.
bool cloexec_pipe(int fds[2]) {
#ifdef __APPLE__
  if (::pipe(fds) != 0) return false;
  ::fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  ::fcntl(fds[1], F_SETFD, FD_CLOEXEC);
  return true;
#else
  return ::pipe2(fds, O_CLOEXEC) == 0;
#endif
}

int ms_left(std::chrono::steady_clock::time_point end) {
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now())
          .count();
  return left < 0 ? 0 : static_cast<int>(left);
}

}  // namespace

process::process(const options& opts) : st_(std::make_unique<state>()) {
  int in_pipe[2];
  int out_pipe[2];
  if (!cloexec_pipe(in_pipe)) throw std::runtime_error("pipe failed");
  if (!cloexec_pipe(out_pipe)) {
    ::close(in_pipe[0]);
    ::close(in_pipe[1]);
    throw std::runtime_error("pipe failed");
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
  short flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
#ifdef POSIX_SPAWN_CLOEXEC_DEFAULT
  flags |= POSIX_SPAWN_CLOEXEC_DEFAULT;
#endif
  posix_spawnattr_setflags(&attr, flags);

  std::string script;
  if (opts.umask) {
    std::ostringstream o;
    o << "umask " << std::oct << *opts.umask << "; ";
    script = o.str();
  }
  if (!opts.cwd.empty()) script += "cd '" + opts.cwd + "' && ";
  script += "exec " + opts.command;
  const char* argv[] = {"/bin/sh", "-c", script.c_str(), nullptr};
  int rc = posix_spawn(&st_->pid, "/bin/sh", &fa, &attr, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  if (rc != 0) {
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    check(rc, "posix_spawn");
  }
  st_->in = in_pipe[1];
  st_->out = out_pipe[0];
  // Non-blocking stdin: a write to an agent that stopped reading must not hang the driver.
  ::fcntl(st_->in, F_SETFL, ::fcntl(st_->in, F_GETFL) | O_NONBLOCK);
  st_->killer = std::make_shared<posix_killer>(st_->pid);
  remember(st_->pid);
}

process::~process() {
  close_stdin();
  if (st_->out >= 0) ::close(st_->out);
  kill_group();
  if (!st_->exit) wait_exit(std::chrono::milliseconds(5000));
  st_->killer->disarm();
  forget(st_->pid);
}

pid_t process::pid() const noexcept {
  return st_->pid;
}

std::optional<exit_info> process::exit_status() const {
  return st_->exit;
}

std::shared_ptr<group_killer> process::killer() const {
  return st_->killer;
}

process::io process::write_stdin(std::string_view bytes,
                                 std::chrono::steady_clock::time_point deadline) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(st_->in, bytes.data() + done, bytes.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{st_->in, POLLOUT, 0};
      int left = ms_left(deadline);
      if (left == 0 || ::poll(&p, 1, left) == 0) return io::timeout;
      continue;
    }
    return io::closed;
  }
  return io::ok;
}

process::io process::read_stdout(std::string& out, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    pollfd p{st_->out, POLLIN, 0};
    int rc = ::poll(&p, 1, ms_left(end));
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) return io::timeout;
    char chunk[65536];
    ssize_t n = ::read(st_->out, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return io::closed;
    out.append(chunk, static_cast<std::size_t>(n));
    return io::ok;
  }
}

std::optional<bool> process::stdin_drained() const {
  // FIONREAD on the write end of a pipe gives the bytes still in it (Linux, macOS, the BSDs).
  int unread = 0;
  if (st_->in < 0 || ::ioctl(st_->in, FIONREAD, &unread) != 0) return std::nullopt;
  return unread == 0;
}

void process::close_stdin() noexcept {
  if (st_->in >= 0) ::close(st_->in);
  st_->in = -1;
}

std::optional<exit_info> process::try_reap() {
  if (st_->exit) return st_->exit;
  int status = 0;
  pid_t r = waitpid(st_->pid, &status, WNOHANG);
  if (r == st_->pid) st_->exit = decode(status);
  return st_->exit;
}

std::optional<exit_info> process::wait_exit(std::chrono::milliseconds limit) {
  if (try_reap()) return st_->exit;
  auto end = std::chrono::steady_clock::now() + limit;
#ifdef SYS_pidfd_open
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, st_->pid, 0));
  if (pidfd >= 0) {
    while (!try_reap()) {
      int left = ms_left(end);
      if (left <= 0) break;
      pollfd p{pidfd, POLLIN, 0};
      ::poll(&p, 1, left);
    }
    ::close(pidfd);
    return st_->exit;
  }
#endif
  // No pidfd: poll the child's state. This is waiting for an event, not a timing assumption.
  while (!try_reap() && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return st_->exit;
}

void process::kill_group() noexcept {
  if (st_->pid > 0) {
    ::kill(-st_->pid, SIGKILL);
    if (!st_->exit) ::kill(st_->pid, SIGKILL);
  }
}

void process::signal(int sig) noexcept {
  if (st_->pid > 0 && !st_->exit) ::kill(st_->pid, sig);
}

std::vector<pid_t> process::group_members() const {
  std::vector<pid_t> out;
  for (pid_t p : processes_in_group(st_->pid))
    if (p != st_->pid || !st_->exit) out.push_back(p);
  return out;
}

std::vector<pid_t> processes_in_group(pid_t pgid) {
  std::vector<pid_t> out;
#ifdef __linux__
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
#else
  (void)pgid;
#endif
  return out;
}

}  // namespace npipe::conformance
