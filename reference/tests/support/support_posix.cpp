// The POSIX half of the test support (see support.hpp).
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "support.hpp"

extern char** environ;

namespace npipe::test {
namespace {

using clock = std::chrono::steady_clock;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

int remaining_ms(clock::time_point end) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

}  // namespace

// ---- temp_dir ----------------------------------------------------------------------------------

temp_dir::temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/npipe-test-XXXXXX";
  if (!mkdtemp(tmpl.data())) fail("mkdtemp " + tmpl);
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  nftw(
      path_.c_str(),
      [](const char* p, const struct stat*, int, struct FTW*) { return ::remove(p) == 0 ? 0 : 0; },
      16, FTW_DEPTH | FTW_PHYS);
}

// ---- process -----------------------------------------------------------------------------------

process process::spawn(std::vector<std::string> argv, const std::vector<std::string>& extra_env) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) fail("pipe2");
  if (pipe2(out, O_CLOEXEC) != 0) fail("pipe2");

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);

  // The child starts with the default SIGPIPE disposition, whatever this process has.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> args;
  for (auto& a : argv)
    args.push_back(a.data());
  args.push_back(nullptr);
  std::vector<std::string> env_strings(extra_env);
  std::vector<char*> env;
  for (char** e = environ; *e; ++e)
    env.push_back(*e);
  for (auto& e : env_strings)
    env.push_back(e.data());
  env.push_back(nullptr);

  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &actions, &attr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(in[0]);
  ::close(out[1]);
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    errno = rc;
    fail("posix_spawn " + argv[0]);
  }
  process p;
  p.pid_ = pid;
  p.stdin_fd_ = in[1];
  p.stdout_fd_ = out[0];
  return p;
}

process process::spawn_self(const std::string& child_name, std::vector<std::string> args) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n < 0) fail("readlink /proc/self/exe");
  self[n] = '\0';
  std::vector<std::string> argv = {self, "--npipe-child", child_name};
  argv.insert(argv.end(), args.begin(), args.end());
  return spawn(std::move(argv));
}

process::process(process&& other) noexcept {
  *this = std::move(other);
}

process& process::operator=(process&& other) noexcept {
  if (this != &other) {
    release();
    pid_ = std::exchange(other.pid_, -1);
    stdin_fd_ = std::exchange(other.stdin_fd_, -1);
    stdout_fd_ = std::exchange(other.stdout_fd_, -1);
    buffered_ = std::move(other.buffered_);
    status_ = std::exchange(other.status_, std::nullopt);
  }
  return *this;
}

process::~process() {
  release();
}

void process::release() noexcept {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    int st;
    while (waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
  }
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  pid_ = stdin_fd_ = stdout_fd_ = -1;
}

void process::write_stdin(std::string_view data) {
  // MSG_NOSIGNAL does not apply to pipes: a dead child must fail the test, not kill it.
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  while (!data.empty()) {
    ssize_t n = ::write(stdin_fd_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      struct timespec zero {};
      sigtimedwait(&block, nullptr, &zero);
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      errno = saved;
      fail("write to child stdin");
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void process::close_stdin() {
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  stdin_fd_ = -1;
}

bool process::read_line(std::string& line, std::chrono::milliseconds timeout) {
  auto end = clock::now() + timeout;
  for (;;) {
    auto nl = buffered_.find('\n');
    if (nl != std::string::npos) {
      line = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      return true;
    }
    if (stdout_fd_ < 0) return false;
    struct pollfd pfd = {stdout_fd_, POLLIN, 0};
    int r = ::poll(&pfd, 1, remaining_ms(end));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    char buf[65536];
    ssize_t n = ::read(stdout_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffered_.append(buf, static_cast<std::size_t>(n));
  }
}

std::string process::read_stdout_until_eof(std::chrono::milliseconds timeout) {
  auto end = clock::now() + timeout;
  std::string all = std::move(buffered_);
  buffered_.clear();
  for (;;) {
    struct pollfd pfd = {stdout_fd_, POLLIN, 0};
    int r = ::poll(&pfd, 1, remaining_ms(end));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) throw std::runtime_error("child stdout: no EOF within the timeout");
    char buf[65536];
    ssize_t n = ::read(stdout_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("read child stdout");
    if (n == 0) return all;
    all.append(buf, static_cast<std::size_t>(n));
  }
}

std::optional<int> process::wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  // A pidfd becomes readable when the child exits: no polling loop, no sleep.
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  auto end = clock::now() + timeout;
  for (;;) {
    int st;
    pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      if (pidfd >= 0) ::close(pidfd);
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return status_;
    }
    if (r < 0 && errno != EINTR) fail("waitpid");
    if (clock::now() >= end) break;
    if (pidfd >= 0) {
      struct pollfd pfd = {pidfd, POLLIN, 0};
      ::poll(&pfd, 1, remaining_ms(end));
    } else {
      // Kernels before 5.3 have no pidfd: a bounded back-off, not a synchronisation.
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  if (pidfd >= 0) ::close(pidfd);
  return std::nullopt;
}

void process::kill() {
  if (pid_ > 0 && !status_) ::kill(pid_, SIGKILL);
}

// ---- blocking proof ----------------------------------------------------------------------------

namespace {

// One thread of `pid` is asleep in a system call other than a read of its stdin. A read of fd 0 is
// excluded because an idle child waiting for its next command sits exactly there.
bool task_blocked(const std::string& task_dir) {
  std::ifstream stat_file(task_dir + "/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  auto paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return false;
  char state = stat[paren + 2];
  if (state != 'S' && state != 'D') return false;
  std::ifstream sys_file(task_dir + "/syscall");
  std::string first;
  unsigned long long arg0 = 0;
  if (!(sys_file >> first)) return false;
  if (first == "running" || first == "-1") return false;
  sys_file >> std::hex >> arg0;
  long nr = std::strtol(first.c_str(), nullptr, 10);
  if (nr == SYS_read && arg0 == 0) return false;
  return true;
}

bool all_tasks_blocked(int pid) {
  std::string base = "/proc/" + std::to_string(pid) + "/task";
  DIR* dir = opendir(base.c_str());
  if (!dir) return false;
  bool any = false, all = true;
  while (struct dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    any = true;
    if (!task_blocked(base + "/" + e->d_name)) {
      all = false;
      break;
    }
  }
  closedir(dir);
  return any && all;
}

}  // namespace

bool wait_until_blocked(int pid, std::chrono::milliseconds limit) {
  auto end = clock::now() + limit;
  if (access("/proc/self/syscall", R_OK) != 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the documented grace period
    return true;
  }
  while (clock::now() < end) {
    if (all_tasks_blocked(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // polling /proc, not synchronising
  }
  return false;
}

std::string temp_dir::pipe_name(std::string_view tag) const {
  return file(tag);
}

int count_open_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return -1;
  int n = 0;
  while (struct dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n - 1;  // the directory's own descriptor
}

std::string cli_path() {
  return NPIPE_CLI_PATH;
}
std::string agent_path() {
  return NPIPE_AGENT_PATH;
}

}  // namespace npipe::test
