// common/console_posix.cpp: the POSIX half of console.hpp. The only file of the tools that calls
// signal or descriptor APIs directly.
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "common/console.hpp"
#include "npipe/error.hpp"

namespace npipe::tools {
namespace {

// What an interrupt must remove. Allocated once and never freed: the interrupt thread may still
// use it while static destructors run at exit.
struct watched_path {
  std::mutex mutex;
  std::string path;
  dev_t dev = 0;
  ino_t ino = 0;
  bool armed = false;
};

watched_path& watched() {
  static auto* w = new watched_path;
  return *w;
}

// The interrupts the tool answers. One the tool was started with ignored (SIGINT for a job a
// non-interactive shell put in the background, SIGHUP under nohup) stays ignored, as the
// starter meant it to be.
sigset_t interrupt_signals() {
  static const sigset_t set = [] {
    sigset_t s;
    sigemptyset(&s);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
      struct sigaction old;
      if (sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
      sigaddset(&s, sig);
    }
    return s;
  }();
  return set;
}

// Runs on its own thread, so the clean-up is ordinary code rather than a signal handler, and it
// works while the main thread is blocked in open() or read().
void wait_for_interrupt() {
  sigset_t set = interrupt_signals();
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  {
    auto& w = watched();
    std::lock_guard<std::mutex> lock(w.mutex);
    struct stat st;
    if (w.armed && ::lstat(w.path.c_str(), &st) == 0 && st.st_dev == w.dev && st.st_ino == w.ino) {
      ::unlink(w.path.c_str());
    }
  }
  // End the way the signal would have, so a shell sees "killed by SIGINT".
  ::signal(sig, SIG_DFL);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
  ::raise(sig);
  _exit(128 + sig);  // not reached: the default action of these signals ends the process
}

[[noreturn]] void throw_stream_error(int err, const char* what) {
  errc code = err == EPIPE ? errc::broken_pipe : errc::io_error;
  throw npipe::error(code, std::string(what) + ": " + std::strerror(err), err,
                     err == EPIPE ? "EPIPE" : "");
}

// Takes a SIGPIPE pending on this thread (blocked), so unblocking it delivers nothing.
void take_pending_sigpipe(const sigset_t& only_sigpipe) {
  sigset_t pending;
  sigemptyset(&pending);
  if (sigpending(&pending) != 0 || sigismember(&pending, SIGPIPE) != 1) return;
  int sig = 0;
  sigwait(&only_sigpipe, &sig);  // pending: returns at once (macOS has no sigtimedwait)
}

}  // namespace

void init_console(sigpipe_policy sigpipe) {
  if (sigpipe == sigpipe_policy::ignore) ::signal(SIGPIPE, SIG_IGN);
}

void watch_interrupts() {
  // Blocked here, before any other thread exists, so every later thread inherits the mask and the
  // signals can only be taken by sigwait() below.
  sigset_t set = interrupt_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread(wait_for_interrupt).detach();
}

void remove_on_interrupt(const std::string& path) {
  auto& w = watched();
  std::lock_guard<std::mutex> lock(w.mutex);
  struct stat st;
  w.armed = ::lstat(path.c_str(), &st) == 0;
  if (!w.armed) return;
  w.path = path;
  w.dev = st.st_dev;
  w.ino = st.st_ino;
}

void keep_on_interrupt() {
  auto& w = watched();
  std::lock_guard<std::mutex> lock(w.mutex);
  w.armed = false;
}

std::size_t read_stdin(void* buf, std::size_t n) {
  for (;;) {
    ssize_t r = ::read(STDIN_FILENO, buf, n);
    if (r >= 0) return static_cast<std::size_t>(r);
    if (errno != EINTR) throw_stream_error(errno, "read standard input");
  }
}

void write_stdout(const void* buf, std::size_t n) {
  // SIGPIPE blocked in this thread for the write: a reader of stdout that has gone is EPIPE here,
  // whatever the process disposition (the agent leaves it at its default, sigpipe_policy).
  sigset_t only_sigpipe, old;
  sigemptyset(&only_sigpipe);
  sigaddset(&only_sigpipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &only_sigpipe, &old);
  const char* p = static_cast<const char*>(buf);
  int err = 0;
  while (n > 0 && err == 0) {
    ssize_t r = ::write(STDOUT_FILENO, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      err = errno;
      break;
    }
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  if (err == EPIPE && sigismember(&old, SIGPIPE) != 1) take_pending_sigpipe(only_sigpipe);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (err != 0) throw_stream_error(err, "write standard output");
}

}  // namespace npipe::tools
