// The POSIX FIFO end: reads and writes with deadlines, in the mode the end was opened in
// (npipe/fifo.hpp, io_mode), never changing it (spec FIFO-IO-*, FIFO-EOF-*, FIFO-PIPE-*).
#include "posix/fifo_stream.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "npipe/error.hpp"
#include "posix/errors.hpp"
#include "posix/sigpipe.hpp"
#include "posix/wait.hpp"

namespace npipe::posix {
namespace {

[[noreturn]] void throw_broken_pipe() {
  throw_errno(errc::broken_pipe, EPIPE, "write to FIFO: no reader has it open any more");
}

// How many bytes a write(2) on a blocking descriptor can take now without blocking, once poll(2)
// said POLLOUT. Linux: the pipe's free space (F_GETPIPE_SZ - FIONREAD) less one page (the buffer
// is kept in pages, and the last one may not take more), at least PIPE_BUF (POLLOUT means a page
// is free). Elsewhere: PIPE_BUF, what POLLOUT promises.
std::size_t room_for_write(int fd) noexcept {
#if defined(F_GETPIPE_SZ) && defined(FIONREAD)
  constexpr int kPage = 4096;
  const int size = ::fcntl(fd, F_GETPIPE_SZ);
  int queued = 0;
  if (size > 0 && ::ioctl(fd, FIONREAD, &queued) == 0 && queued >= 0 && queued + kPage < size) {
    return std::max<std::size_t>(PIPE_BUF, static_cast<std::size_t>(size - queued - kPage));
  }
#else
  (void)fd;
#endif
  return PIPE_BUF;
}

// One read(2) or write(2) attempt on a non-blocking descriptor, then waits as `d` allows.
backend::progress read_nonblocking(int fd, void* buf, std::size_t n, const deadline& d) {
  for (;;) {
    const ssize_t got = ::read(fd, buf, n);
    if (got >= 0) return {static_cast<std::size_t>(got), false};  // data, or 0: no writer (EOF)
    const int err = errno;
    if (err == EINTR) continue;
    if (err != EAGAIN && err != EWOULDBLOCK) throw_errno(err, "read from FIFO");
    // A writer is present and the FIFO is empty (FIFO-IO-3): wait for data.
    if (wait_fd(fd, POLLIN, d, "a FIFO") == 0) return {0, true};
  }
}

backend::progress write_nonblocking(int fd, const char* bytes, std::size_t n, const deadline& d) {
  backend::progress p;
  while (p.count < n) {
    // A write of at most PIPE_BUF bytes is all-or-EAGAIN, a larger one takes what fits: nothing
    // of a small record is ever split (FIFO-IO-2).
    const ssize_t put = write_without_sigpipe(fd, bytes + p.count, n - p.count);
    if (put >= 0) {
      p.count += static_cast<std::size_t>(put);
      continue;
    }
    const int err = errno;
    if (err == EPIPE) {
      if (p.count > 0) return p;  // what was written is reported; the next call says EPIPE
      throw_broken_pipe();
    }
    if (err != EAGAIN && err != EWOULDBLOCK) {
      if (p.count > 0) return p;
      throw_errno(err, "write to FIFO");
    }
    // Full (FIFO-IO-4): wait for room. Bytes already accepted are reported, never lost.
    if (wait_fd(fd, POLLOUT, d, "a FIFO") == 0) {
      p.expired = true;
      return p;
    }
  }
  return p;
}

class fifo_fd_stream final : public backend::fifo_stream {
 public:
  fifo_fd_stream(unique_fd fd, direction dir, io_mode mode)
      : fd_(std::move(fd)), dir_(dir), mode_(mode) {}

  backend::progress read(void* buf, std::size_t n, deadline d) override {
    if (mode_ == io_mode::nonblocking) return read_nonblocking(fd_.get(), buf, n, d);
    if (d.is_forever()) {
      for (;;) {
        const ssize_t got = ::read(fd_.get(), buf, n);
        if (got >= 0) return {static_cast<std::size_t>(got), false};
        if (errno != EINTR) throw_errno(errno, "read from FIFO");
      }
    }
    if (const int twin = nonblocking_twin(); twin >= 0) return read_nonblocking(twin, buf, n, d);
    // No twin: wait for readiness, then one read(2), which another reader may race (io_mode).
    for (;;) {
      if (wait_fd(fd_.get(), POLLIN, d, "a FIFO") == 0) return {0, true};
      const ssize_t got = ::read(fd_.get(), buf, n);
      if (got >= 0) return {static_cast<std::size_t>(got), false};
      if (errno != EINTR) throw_errno(errno, "read from FIFO");
    }
  }

  backend::progress write(const void* buf, std::size_t n, deadline d) override {
    const auto* bytes = static_cast<const char*>(buf);
    if (mode_ == io_mode::nonblocking) return write_nonblocking(fd_.get(), bytes, n, d);
    if (!d.is_forever()) {
      if (const int twin = nonblocking_twin(); twin >= 0) {
        return write_nonblocking(twin, bytes, n, d);
      }
    }
    backend::progress p;
    while (p.count < n) {
      std::size_t chunk = n - p.count;
      if (!d.is_forever()) {
        // No twin: wait for room, then write only what cannot block (io_mode). A write of at
        // most PIPE_BUF bytes stays whole: room_for_write is at least PIPE_BUF.
        if (wait_fd(fd_.get(), POLLOUT, d, "a FIFO") == 0) {
          p.expired = true;
          return p;
        }
        chunk = std::min(chunk, room_for_write(fd_.get()));
      }
      // Blocking: one write(2) (all or nothing up to PIPE_BUF, FIFO-IO-2; a larger one may
      // return short after a signal, hence the loop).
      const ssize_t put = write_without_sigpipe(fd_.get(), bytes + p.count, chunk);
      if (put >= 0) {
        p.count += static_cast<std::size_t>(put);
        continue;
      }
      const int err = errno;
      if (p.count > 0) return p;  // what was written is reported; the next call says why
      if (err == EPIPE) throw_broken_pipe();
      throw_errno(err, "write to FIFO");
    }
    return p;
  }

  native_handle_t native_handle() const noexcept override { return fd_.get(); }
  native_handle_t release() noexcept override {
    twin_.reset();
    return fd_.release();
  }

 private:
  // A blocking end's second, non-blocking description of the same FIFO, opened on first need
  // (Linux: open(2) of /proc/self/fd/N), for the calls with a deadline: the end's own description
  // (which other threads or processes may share) is never switched to O_NONBLOCK. It counts as
  // one more reader or writer of the FIFO while the end is open. -1 where it cannot be had (no
  // /proc; a writer whose reader has left).
  int nonblocking_twin() noexcept {
    if (twin_ || twin_tried_) return twin_.get();
    twin_tried_ = true;
    const std::string proc = "/proc/self/fd/" + std::to_string(fd_.get());
    const int flags = (dir_ == direction::read ? O_RDONLY : O_WRONLY) | O_NONBLOCK | O_CLOEXEC;
    int fd;
    do {
      fd = ::open(proc.c_str(), flags);
    } while (fd < 0 && errno == EINTR);
    unique_fd twin(fd);
    struct stat mine {
    }, theirs{};
    if (twin && ::fstat(fd_.get(), &mine) == 0 && ::fstat(twin.get(), &theirs) == 0 &&
        mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino) {
      twin_ = std::move(twin);
    } else if (dir_ == direction::write) {
      twin_tried_ = false;  // ENXIO (no reader right now): try again next time
    }
    return twin_.get();
  }

  unique_fd fd_;
  unique_fd twin_;
  bool twin_tried_ = false;
  direction dir_;
  io_mode mode_;
};

}  // namespace

void set_mode(int fd, io_mode mode, const char* what) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) throw_errno(errno, what);
  const int wanted = mode == io_mode::nonblocking ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (wanted != flags && ::fcntl(fd, F_SETFL, wanted) < 0) throw_errno(errno, what);
}

std::unique_ptr<backend::fifo_stream> make_fifo_stream(unique_fd fd, direction dir, io_mode mode) {
  return std::make_unique<fifo_fd_stream>(std::move(fd), dir, mode);
}

}  // namespace npipe::posix

namespace npipe::backend {

std::unique_ptr<fifo_stream> adopt_fifo(native_handle_t h, direction dir, io_mode mode) {
  posix::unique_fd fd(h);  // ours from here on, closed on any failure below
  const char* what = "adopt a FIFO end";
  if (!fd) throw error(errc::io_error, std::string(what) + ": not a descriptor (-1)");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) posix::throw_errno(errno, what);
  if (!S_ISFIFO(st.st_mode)) {
    throw error(errc::not_a_pipe, std::string(what) + ": the descriptor is not a FIFO or pipe");
  }
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0) posix::throw_errno(errno, what);
  const int access = flags & O_ACCMODE;
  if (access != (dir == direction::read ? O_RDONLY : O_WRONLY)) {
    throw error(errc::io_error, std::string(what) + ": the descriptor is not open for " +
                                    (dir == direction::read ? "reading only" : "writing only"));
  }
  posix::set_mode(fd.get(), mode, what);
  return posix::make_fifo_stream(std::move(fd), dir, mode);
}

std::size_t pipe_buf() noexcept {
  return PIPE_BUF;
}

}  // namespace npipe::backend
