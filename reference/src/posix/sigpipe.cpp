// write(2) without SIGPIPE: block it in this thread, write, consume the signal our write raised.
#include "posix/sigpipe.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

namespace npipe::posix {
namespace {

#if defined(__APPLE__)
// macOS has no sigtimedwait; sigwait on a signal we know is pending does not block.
void consume_pending_sigpipe(const sigset_t& only_sigpipe) noexcept {
  sigset_t pending;
  if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
    int sig = 0;
    sigwait(&only_sigpipe, &sig);
  }
}
#else
void consume_pending_sigpipe(const sigset_t& only_sigpipe) noexcept {
  const timespec zero{0, 0};
  // Zero timeout: takes the signal if pending, returns EAGAIN at once otherwise. Linux dequeues
  // thread-directed signals (the one write(2) raised is) before process-directed ones.
  while (sigtimedwait(&only_sigpipe, nullptr, &zero) < 0 && errno == EINTR) {
  }
}
#endif

}  // namespace

ssize_t write_without_sigpipe(int fd, const void* buf, std::size_t n) noexcept {
  sigset_t only_sigpipe;
  sigemptyset(&only_sigpipe);
  sigaddset(&only_sigpipe, SIGPIPE);

  sigset_t old_mask;
  pthread_sigmask(SIG_BLOCK, &only_sigpipe, &old_mask);

  // sigpending covers both this thread's and the process's pending set. If SIGPIPE is already
  // pending (the caller had it blocked, or another thread's kill is queued) our write cannot add
  // a second one (standard signals do not queue), so we must not consume it.
  sigset_t pending;
  sigemptyset(&pending);
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;

  ssize_t result;
  do {
    result = ::write(fd, buf, n);
  } while (result < 0 && errno == EINTR);
  const int saved_errno = errno;

  // Not only on EPIPE: Linux (fs/pipe.c) also raises SIGPIPE when a large write had already put
  // some bytes in before the last reader left, and then returns that partial count.
  if (!was_pending) {
    sigemptyset(&pending);
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE) == 1) consume_pending_sigpipe(only_sigpipe);
  }

  // Restores the caller's mask exactly (SIGPIPE stays blocked if it was blocked before).
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  errno = saved_errno;
  return result;
}

}  // namespace npipe::posix
