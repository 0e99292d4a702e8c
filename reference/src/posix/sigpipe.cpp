// write(2) without SIGPIPE: block it in this thread, write, consume the signal our write raised.
#include "posix/sigpipe.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

namespace npipe::posix {
namespace {

#if defined(__APPLE__) || defined(__OpenBSD__)
// No sigtimedwait there (spec section 8.3); sigwait on a signal we know is pending does not block.
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
#if defined(F_SETNOSIGPIPE)
  // XNU (spec section 8.3): the descriptor itself can be told never to raise SIGPIPE; then write
  // fails EPIPE like any other error and no mask is touched. Idempotent, so set at every write.
  if (::fcntl(fd, F_SETNOSIGPIPE, 1) == 0) {
    ssize_t r;
    do {
      r = ::write(fd, buf, n);
    } while (r < 0 && errno == EINTR);
    return r;
  }
#endif
  sigset_t only_sigpipe;
  sigemptyset(&only_sigpipe);
  sigaddset(&only_sigpipe, SIGPIPE);

  sigset_t old_mask;
  pthread_sigmask(SIG_BLOCK, &only_sigpipe, &old_mask);
  const bool caller_blocks = sigismember(&old_mask, SIGPIPE) == 1;

  // If SIGPIPE is already pending (the caller had it blocked, or another thread's kill is queued)
  // our write cannot add a second one (standard signals do not queue), so we must not consume it.
  // Only a blocked signal can be pending: while the caller had it unblocked it would have been
  // delivered already, so then there is nothing to ask (one system call less per write).
  bool was_pending = false;
  if (caller_blocks) {
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending = sigismember(&pending, SIGPIPE) == 1;
  }

  ssize_t result;
  do {
    result = ::write(fd, buf, n);
  } while (result < 0 && errno == EINTR);
  const int saved_errno = errno;

  // Only a write that stopped short can have raised SIGPIPE: EPIPE, or (Linux, fs/pipe.c) a
  // large write that had put some bytes in before the last reader left and returns that partial
  // count. A write that took all n bytes raised nothing, and needs no look.
  const bool stopped_short =
      result < 0 ? saved_errno == EPIPE : static_cast<std::size_t>(result) < n;
  if (stopped_short && !was_pending) {
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE) == 1) consume_pending_sigpipe(only_sigpipe);
  }

  // Restores the caller's mask exactly (SIGPIPE stays blocked if it was blocked before).
  if (!caller_blocks) pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  errno = saved_errno;
  return result;
}

}  // namespace npipe::posix
