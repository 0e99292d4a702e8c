// common/idle_child_posix.cpp: the POSIX half of idle_child.hpp.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/idle_child.hpp"
#include "npipe/error.hpp"

extern char** environ;

namespace npipe::tools {
namespace {

std::string& program_path() {
  static std::string path;
  return path;
}

// This program's own file: /proc/self/exe where there is one (Linux), else argv[0].
std::string self_path() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) return std::string(buf, static_cast<std::size_t>(n));
  return program_path();
}

[[noreturn]] void fail(int err, const std::string& what) {
  throw npipe::error(errc::io_error, what + ": " + std::strerror(err), err, "");
}

}  // namespace

struct idle_child::impl {
  pid_t pid = -1;
  int stdin_w = -1;  // its stdin: EOF ends it
};

void remember_program_path(const char* argv0) {
  if (argv0) program_path() = argv0;
}

idle_child::idle_child() noexcept = default;
idle_child::idle_child(idle_child&&) noexcept = default;
idle_child& idle_child::operator=(idle_child&& o) noexcept {
  if (this != &o) {
    stop();
    impl_ = std::move(o.impl_);
  }
  return *this;
}
idle_child::~idle_child() {
  stop();
}

namespace {

void cloexec_pipe(int p[2]) {
#ifdef __linux__
  if (::pipe2(p, O_CLOEXEC) != 0) fail(errno, "spawn: pipe");
#else
  if (::pipe(p) != 0) fail(errno, "spawn: pipe");
  ::fcntl(p[0], F_SETFD, FD_CLOEXEC);
  ::fcntl(p[1], F_SETFD, FD_CLOEXEC);
#endif
}

}  // namespace

idle_child idle_child::start() {
  int p[2];      // its stdin: we hold the write end
  int ready[2];  // its stdout: one byte once it runs
  cloexec_pipe(p);
  try {
    cloexec_pipe(ready);
  } catch (...) {
    ::close(p[0]);
    ::close(p[1]);
    throw;
  }
  std::string self = self_path();
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[0], 0);  // dup2 clears close-on-exec on fd 0 and 1
  posix_spawn_file_actions_adddup2(&fa, ready[1], 1);
  char arg0[] = "npipe-agent";
  char arg1[] = "--idle-child";
  char* argv[] = {arg0, arg1, nullptr};
  pid_t pid = -1;
  int rc = posix_spawn(&pid, self.c_str(), &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(p[0]);
  ::close(ready[1]);
  if (rc != 0) {
    ::close(p[1]);
    ::close(ready[0]);
    fail(rc, "spawn " + self);
  }
  idle_child c;
  c.impl_ = std::make_unique<impl>();
  c.impl_->pid = pid;
  c.impl_->stdin_w = p[1];
  // posix_spawn returns once the exec has begun (vfork), which is before the kernel closes the
  // child's close-on-exec descriptors (Linux fs/exec.c: exec_mmap releases the parent, then
  // do_close_on_exec). The child's first byte says it runs its program: they are closed by then.
  char b = 0;
  ssize_t n;
  while ((n = ::read(ready[0], &b, 1)) < 0 && errno == EINTR) {
  }
  ::close(ready[0]);
  if (n != 1) fail(EIO, "spawn " + self + ": the child did not start");
  return c;
}

void idle_child::stop() noexcept {
  if (!impl_ || impl_->pid < 0) return;
  ::close(impl_->stdin_w);
  ::kill(impl_->pid, SIGKILL);
  while (::waitpid(impl_->pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  impl_->pid = -1;
}

long idle_child::pid() const noexcept {
  return impl_ ? impl_->pid : -1;
}

int run_idle_child() {
  char one = '1';
  while (::write(STDOUT_FILENO, &one, 1) < 0 && errno == EINTR) {
  }
  ::close(STDOUT_FILENO);
  char buf[256];
  for (;;) {
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EINTR)) return 0;
  }
}

}  // namespace npipe::tools
