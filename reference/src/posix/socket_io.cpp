// poll/recv/sendmsg loops for the Channel profile's sockets.
#include "posix/socket_io.hpp"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "posix/errors.hpp"

namespace npipe::posix {
namespace {

// MSG_NOSIGNAL where the system defines it (Linux, FreeBSD, XNU from xnu-7195: spec section 8.3);
// elsewhere SO_NOSIGPIPE, which unix_socket.cpp sets on every socket it makes.
#ifdef MSG_NOSIGNAL
constexpr int kNoSignal = MSG_NOSIGNAL;
#else
constexpr int kNoSignal = 0;
#endif

}  // namespace

bool wait_ready(int fd, short events, deadline d) {
  for (;;) {
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, d.remaining_ms());
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) throw_errno(errno, "poll on a channel socket");
    if (d.expired()) return false;
    // rc == 0 before the deadline (rounding) or EINTR: wait for what is left.
  }
}

void wait_ready_or_throw(int fd, short events, deadline d, const char* what) {
  if (wait_ready(fd, events, d)) return;
  if (d.is_immediate()) {
    throw npipe::error(errc::would_block, std::string(what) + ": not ready and no waiting asked");
  }
  throw npipe::error(errc::timeout, std::string(what) + ": the deadline passed");
}

std::size_t recv_some(int fd, void* buf, std::size_t n, deadline d) {
  for (;;) {
    // Forever: a plain blocking recv, one system call. Otherwise try first, then wait.
    int flags = d.is_forever() ? 0 : MSG_DONTWAIT;
    ssize_t got = ::recv(fd, buf, n, flags);
    if (got >= 0) return static_cast<std::size_t>(got);
    int err = errno;
    if (err == EINTR) continue;
    if (err == ECONNRESET) return 0;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      wait_ready_or_throw(fd, POLLIN, d, "receive on a channel");
      continue;
    }
    throw_errno(err, "recv on a channel");
  }
}

void send_two_parts(int fd, const void* first, std::size_t first_n, const void* second,
                    std::size_t second_n) {
  iovec iov[2] = {{const_cast<void*>(first), first_n}, {const_cast<void*>(second), second_n}};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = second_n > 0 ? 2 : 1;
  while (msg.msg_iovlen > 0) {
    ssize_t sent = ::sendmsg(fd, &msg, kNoSignal);
    if (sent < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (err == EPIPE || err == ECONNRESET || err == ENOTCONN) {
        throw_errno(errc::broken_pipe, err, "send on a channel: the peer is gone");
      }
      throw_errno(err, "send on a channel");
    }
    // Drop what the kernel took: whole parts first, then the front of the next one.
    auto left = static_cast<std::size_t>(sent);
    while (msg.msg_iovlen > 0 && left >= msg.msg_iov[0].iov_len) {
      left -= msg.msg_iov[0].iov_len;
      ++msg.msg_iov;
      --msg.msg_iovlen;
    }
    if (msg.msg_iovlen > 0) {
      msg.msg_iov[0].iov_base = static_cast<char*>(msg.msg_iov[0].iov_base) + left;
      msg.msg_iov[0].iov_len -= left;
    }
  }
}

}  // namespace npipe::posix
