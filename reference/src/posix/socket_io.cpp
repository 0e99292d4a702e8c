// recv/sendmsg loops for the Channel profile's sockets: see socket_io.hpp.
#include "posix/socket_io.hpp"

#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "posix/errors.hpp"
#include "posix/wait.hpp"

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

std::size_t recv_some(int fd, void* buf, std::size_t n, const deadline& d) {
  for (;;) {
    // Forever: a plain blocking recv, one system call. Otherwise try first, then wait.
    const int flags = d.is_forever() ? 0 : MSG_DONTWAIT;
    const ssize_t got = ::recv(fd, buf, n, flags);
    if (got >= 0) return static_cast<std::size_t>(got);
    const int err = errno;
    if (err == EINTR) continue;
    if (err == ECONNRESET) return 0;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      if (wait_fd(fd, POLLIN, d, "receive on a channel") == 0) return kNotReady;
      continue;
    }
    throw_errno(err, "recv on a channel");
  }
}

backend::progress send_two_parts(int fd, const void* first, std::size_t first_n, const void* second,
                                 std::size_t second_n, const deadline& d) {
  iovec iov[2] = {{const_cast<void*>(first), first_n}, {const_cast<void*>(second), second_n}};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = second_n > 0 ? 2 : 1;
  const int flags = kNoSignal | (d.is_forever() ? 0 : MSG_DONTWAIT);
  backend::progress p;
  while (msg.msg_iovlen > 0) {
    const ssize_t sent = ::sendmsg(fd, &msg, flags);
    if (sent < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) {
        if (wait_fd(fd, POLLOUT, d, "send on a channel") == 0) {
          p.expired = true;
          return p;
        }
        continue;
      }
      if (err == EPIPE || err == ECONNRESET || err == ENOTCONN) {
        throw_errno(errc::broken_pipe, err, "send on a channel: the peer is gone");
      }
      throw_errno(err, "send on a channel");
    }
    p.count += static_cast<std::size_t>(sent);
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
  return p;
}

}  // namespace npipe::posix
