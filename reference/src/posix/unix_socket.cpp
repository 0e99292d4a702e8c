// Making, connecting and probing AF_UNIX stream sockets.
#include "posix/unix_socket.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/time.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "posix/errors.hpp"

namespace npipe::posix {

unique_fd make_unix_stream_socket() {
#ifdef SOCK_CLOEXEC
  unique_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw_errno(errno, "socket(AF_UNIX, SOCK_STREAM)");
#else
  // No SOCK_CLOEXEC: a fork+exec in another thread between these two calls inherits the socket.
  unique_fd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
  if (!fd) throw_errno(errno, "socket(AF_UNIX, SOCK_STREAM)");
  int err = set_cloexec(fd.get());
  if (err != 0) throw_errno(err, "fcntl(F_SETFD, FD_CLOEXEC) on a new channel socket");
#endif
#if defined(SO_NOSIGPIPE) && !defined(MSG_NOSIGNAL)
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
  return fd;
}

unix_address make_unix_address(const std::string& path) {
  unix_address a;
  a.addr.sun_family = AF_UNIX;
  // platform_name() guaranteed the path fits with its NUL; copy defensively all the same.
  std::size_t n = std::min(path.size(), sizeof a.addr.sun_path - 1);
  std::memcpy(a.addr.sun_path, path.data(), n);
  a.size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + n + 1);
  return a;
}

int set_cloexec(int fd) noexcept {
  const int flags = ::fcntl(fd, F_GETFD);
  if (flags < 0) return errno;
  if ((flags & FD_CLOEXEC) == 0 && ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) return errno;
  return 0;
}

unique_fd accept_client_fallback(int listen_fd, int& err) noexcept {
  unique_fd fd(::accept(listen_fd, nullptr, nullptr));
  if (!fd) {
    err = errno;
    return fd;
  }
  // The BSDs and macOS: the accepted socket inherits O_NONBLOCK from the listening socket, and
  // never has FD_CLOEXEC. Either fixed step failing is a failed accept: the client is dropped.
  err = set_cloexec(fd.get());
  if (err == 0) {
    const int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags < 0 ||
        ((flags & O_NONBLOCK) != 0 && ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) < 0)) {
      err = errno;
    }
  }
  if (err != 0) fd.reset();
  return fd;
}

unique_fd accept_client(int listen_fd, int& err) noexcept {
#ifdef NPIPE_HAVE_ACCEPT4
  // Close-on-exec from the start: no window in which a fork+exec in another thread inherits it.
  // accept4 without SOCK_NONBLOCK gives a blocking socket on every system that has it (Linux,
  // FreeBSD, NetBSD, OpenBSD, DragonFly, illumos): O_NONBLOCK is not inherited.
  unique_fd fd(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
  err = fd ? 0 : errno;
  return fd;
#else
  return accept_client_fallback(listen_fd, err);
#endif
}

void set_nonblocking(int fd, bool on, const char* what) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) throw_errno(errno, what);
  int wanted = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (wanted != flags && ::fcntl(fd, F_SETFL, wanted) < 0) throw_errno(errno, what);
}

namespace {

// Limits a blocking connect(2) to `ms`: on Linux an AF_UNIX connect waiting for room in a full
// backlog honours SO_SNDTIMEO and then fails EAGAIN. Zero would mean "no limit", hence >= 1.
void set_send_timeout(int fd, int ms) {
  timeval tv{};
  tv.tv_sec = ms / 1000;
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms % 1000) * 1000);
  if (ms > 0 && tv.tv_sec == 0 && tv.tv_usec == 0) tv.tv_usec = 1000;
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0) {
    throw_errno(errno, "setsockopt(SO_SNDTIMEO) on a channel socket");
  }
}

}  // namespace

unique_fd connect_unix(const std::string& path, deadline d) {
  unique_fd fd = make_unix_stream_socket();
  const unix_address a = make_unix_address(path);
  const std::string what = "connect to '" + path + "'";
  const bool timed = !d.is_forever() && !d.is_immediate();
  if (d.is_immediate() || (timed && d.expired())) {
    set_nonblocking(fd.get(), true, what.c_str());
  } else if (timed) {
    set_send_timeout(fd.get(), std::max(1, d.remaining_ms()));
  }
  for (;;) {
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&a.addr), a.size) == 0) break;
    int err = errno;
    if (err == EINTR) {
      // AF_UNIX: an interrupted connect left the socket unconnected, so it is simply retried;
      // but SO_SNDTIMEO restarts in full with every connect(2), so a deadline resumes with the
      // time it has left (ERR-4), or a periodic signal would keep it waiting forever.
      if (timed) {
        if (d.expired()) {
          throw_errno(errc::timeout, ETIMEDOUT,
                      what + ": the deadline passed while the listener's backlog was full");
        }
        set_send_timeout(fd.get(), std::max(1, d.remaining_ms()));
      }
      continue;
    }
    if (err == EISCONN) break;
    switch (err) {
      case ENOENT:
        throw_errno(errc::not_found, err, what + ": no socket file at this path");
      case ECONNREFUSED:
        throw_errno(errc::not_found, err, what + ": nobody listens on this socket file");
      case EAGAIN:
        throw_errno(d.is_immediate() ? errc::would_block : errc::timeout, err,
                    what + ": the listener's backlog is full");
      case EINPROGRESS:  // only in non-blocking mode, i.e. the immediate (or expired) deadline
        throw_errno(d.is_immediate() ? errc::would_block : errc::timeout, err,
                    what + ": the connection could not complete at once");
      default:
        throw_errno(err, what);
    }
    break;
  }
  if (d.is_immediate() || timed) {
    set_nonblocking(fd.get(), false, what.c_str());
    if (timed) set_send_timeout(fd.get(), 0);
  }
  return fd;
}

// The datagram probe of spec CHAN-LISTEN-3: a SOCK_DGRAM connect to the path is never queued at a
// listener, and the kernel checks "is a socket bound to this file" before it compares socket types
// (Linux unix_find_bsd; XNU unp_connect), and the type before any backlog, so a full backlog (XNU
// refuses a stream connect then) or a listener between bind and listen cannot make a live socket
// look stale.
connect_probe probe_by_connect(const std::string& path) {
  unique_fd fd(::socket(AF_UNIX, SOCK_DGRAM, 0));
  if (!fd) return connect_probe::undecided;
  ::fcntl(fd.get(), F_SETFD, FD_CLOEXEC);
  const unix_address a = make_unix_address(path);
  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&a.addr), a.size);
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) return connect_probe::answered;  // a datagram socket is bound there: not ours
  switch (errno) {
    case EPROTOTYPE:  // a stream socket is bound there: listening, or about to
      return connect_probe::answered;
    case ECONNREFUSED:  // no socket bound to the file: stale
      return connect_probe::refused;
    default:
      return connect_probe::undecided;
  }
}

}  // namespace npipe::posix
