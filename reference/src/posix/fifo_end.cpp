// npipe::fifo_end on POSIX: reads and writes with deadlines (spec FIFO-IO-*, FIFO-EOF-*,
// FIFO-PIPE-*).
//
// The descriptor stays in blocking mode between calls (callers may hand native_handle() to code
// that expects it); a call with a deadline switches it to non-blocking for its own duration. That
// is the only way to get the POSIX answer right for a reader with no writer: read(2) returns 0
// (EOF) at once, while poll(2) on Linux reports nothing for a reader that never saw a writer.
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "npipe/error.hpp"
#include "npipe/fifo.hpp"
#include "posix/errors.hpp"
#include "posix/fifo_end_impl.hpp"
#include "posix/sigpipe.hpp"

namespace npipe {
namespace {

using posix::throw_errno;

// Sets O_NONBLOCK for one call and restores the previous flags after it.
class nonblocking_scope {
 public:
  nonblocking_scope(int fd, const std::string& path) : fd_(fd) {
    flags_ = ::fcntl(fd, F_GETFL);
    if (flags_ < 0 || ::fcntl(fd, F_SETFL, flags_ | O_NONBLOCK) < 0) {
      throw_errno(errno, "make FIFO '" + path + "' non-blocking");
    }
  }
  ~nonblocking_scope() { ::fcntl(fd_, F_SETFL, flags_); }
  nonblocking_scope(const nonblocking_scope&) = delete;
  nonblocking_scope& operator=(const nonblocking_scope&) = delete;

 private:
  int fd_;
  int flags_;
};

// Waits until `events` may be ready or the deadline passes; false on the deadline.
bool wait_ready(int fd, short events, const deadline& d, const std::string& path) {
  for (;;) {
    const int left = d.remaining_ms();
    if (left == 0) return false;
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, left);
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) throw_errno(errno, "poll FIFO '" + path + "'");
  }
}

[[noreturn]] void throw_not_ready(const deadline& d, const char* what, const std::string& path) {
  if (d.is_immediate()) {
    throw error(errc::would_block, std::string(what) + " FIFO '" + path + "' would block", EAGAIN,
                posix::errno_name(EAGAIN));
  }
  throw error(errc::timeout, std::string(what) + " FIFO '" + path + "': deadline passed");
}

[[noreturn]] void throw_broken_pipe(const std::string& path) {
  posix::throw_errno(errc::broken_pipe, EPIPE,
                     "write to FIFO '" + path + "': no reader has it open any more");
}

}  // namespace

fifo_end::fifo_end() noexcept = default;
fifo_end::fifo_end(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}
fifo_end::fifo_end(fifo_end&&) noexcept = default;
fifo_end& fifo_end::operator=(fifo_end&&) noexcept = default;
fifo_end::~fifo_end() = default;

bool fifo_end::is_open() const noexcept {
  return impl_ && impl_->fd.valid();
}
direction fifo_end::dir() const noexcept {
  return impl_ ? impl_->dir : direction::read;
}
native_handle_t fifo_end::native_handle() const noexcept {
  return impl_ ? impl_->fd.get() : -1;
}

void fifo_end::close() noexcept {
  if (impl_) impl_->fd.reset();
}

std::size_t fifo_end::pipe_buf() noexcept {
  return PIPE_BUF;
}

std::size_t fifo_end::read(void* buf, std::size_t n, deadline d) {
  if (!is_open()) throw error(errc::io_error, "read from a closed FIFO end", EBADF, "EBADF");
  const std::string& path = impl_->path;
  if (impl_->dir != direction::read) {
    throw error(errc::io_error, "read from FIFO '" + path + "': this end was opened for writing",
                EBADF, "EBADF");
  }
  // read(2) of 0 bytes would return 0, which callers take for EOF: answer without asking.
  if (n == 0) return 0;
  const int fd = impl_->fd.get();
  if (d.is_forever()) {
    for (;;) {
      const ssize_t got = ::read(fd, buf, n);
      if (got >= 0) return static_cast<std::size_t>(got);
      if (errno != EINTR) throw_errno(errno, "read from FIFO '" + path + "'");
    }
  }
  nonblocking_scope nonblocking(fd, path);
  for (;;) {
    const ssize_t got = ::read(fd, buf, n);
    if (got >= 0) return static_cast<std::size_t>(got);  // data, or 0: no writer left (EOF)
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      throw_errno(errno, "read from FIFO '" + path + "'");
    }
    // A writer is present and the FIFO is empty (FIFO-IO-3).
    if (!wait_ready(fd, POLLIN, d, path)) throw_not_ready(d, "read from", path);
  }
}

std::size_t fifo_end::write(const void* buf, std::size_t n, deadline d) {
  if (!is_open()) throw error(errc::io_error, "write to a closed FIFO end", EBADF, "EBADF");
  const std::string& path = impl_->path;
  if (impl_->dir != direction::write) {
    throw error(errc::io_error, "write to FIFO '" + path + "': this end was opened for reading",
                EBADF, "EBADF");
  }
  if (n == 0) return 0;
  const int fd = impl_->fd.get();
  const auto* bytes = static_cast<const char*>(buf);
  std::size_t written = 0;

  if (d.is_forever()) {
    // One write(2) per call: a blocking write of at most PIPE_BUF bytes is all-or-nothing and
    // never interleaved (FIFO-IO-2); a larger one may return short after a signal, so loop.
    while (written < n) {
      const ssize_t put = posix::write_without_sigpipe(fd, bytes + written, n - written);
      if (put < 0) {
        if (errno == EPIPE) throw_broken_pipe(path);
        throw_errno(errno, "write to FIFO '" + path + "'");
      }
      written += static_cast<std::size_t>(put);
    }
    return written;
  }

  nonblocking_scope nonblocking(fd, path);
  while (written < n) {
    // Non-blocking, a write of at most PIPE_BUF bytes is all-or-EAGAIN; a larger one takes what
    // fits. Either way nothing of a small record is ever split.
    const ssize_t put = posix::write_without_sigpipe(fd, bytes + written, n - written);
    if (put >= 0) {
      written += static_cast<std::size_t>(put);
      continue;
    }
    if (errno == EPIPE) throw_broken_pipe(path);
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      throw_errno(errno, "write to FIFO '" + path + "'");
    }
    // Full (FIFO-IO-4): wait for room. Bytes already accepted are reported, never lost.
    if (!wait_ready(fd, POLLOUT, d, path)) {
      if (written > 0) return written;
      throw_not_ready(d, "write to", path);
    }
  }
  return written;
}

void fifo_end::write_all(const void* buf, std::size_t n) {
  write(buf, n, deadline::forever());
}

}  // namespace npipe
