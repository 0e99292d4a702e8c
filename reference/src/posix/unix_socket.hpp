// AF_UNIX stream sockets for the Channel profile: making them, connecting with a deadline, and
// telling a live listener's socket file from a stale one.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <string>

#include "npipe/deadline.hpp"
#include "posix/unique_fd.hpp"

namespace npipe::posix {

// A new AF_UNIX stream socket: close-on-exec, and never raising SIGPIPE where the platform needs
// a socket option for that (macOS SO_NOSIGPIPE).
unique_fd make_unix_stream_socket();

// The sockaddr for a path already checked by platform_name(name, channel) (fits sun_path).
struct unix_address {
  sockaddr_un addr{};
  socklen_t size = 0;
};
unix_address make_unix_address(const std::string& path);

// Connects to the listener at path before `d`. not_found when there is no socket file or nobody
// listens on it (CHAN-CONNECT-1); timeout / would_block when the listener's backlog stays full;
// permission_denied. The returned socket is in blocking mode.
unique_fd connect_unix(const std::string& path, deadline d);

// What a SOCK_DGRAM connect(2) to path says about the socket file there, without waiting and
// without queueing anything at a listener (spec CHAN-LISTEN-3's probe; never a stream connect,
// which a live listener would accept as a client).
enum class connect_probe {
  refused,    // ECONNREFUSED: no socket is bound to the file (stale)
  answered,   // EPROTOTYPE: a stream socket is bound (live, or between bind and listen); or a
              // datagram socket is bound and the connect succeeded
  undecided,  // anything else (permissions, ...): do not assume it is stale
};
connect_probe probe_by_connect(const std::string& path);

// Accepts one waiting client of the listening socket `listen_fd`: the new socket is close-on-exec
// and in blocking mode. Never throws and never waits by itself (the listening socket is
// non-blocking): returns an invalid descriptor with `err` set to accept(2)'s errno (EAGAIN when
// no client waits) or to the errno of the fcntl(2) that failed. accept4(SOCK_CLOEXEC) where the
// system has it (NPIPE_HAVE_ACCEPT4, found by CMake); elsewhere accept_client_fallback().
unique_fd accept_client(int listen_fd, int& err) noexcept;
// accept(2), then FD_CLOEXEC set and O_NONBLOCK cleared with fcntl(2), each result checked. A
// fork+exec in another thread between accept and fcntl inherits the socket: a race only accept4
// closes. Compiled everywhere, so its checks are tested on Linux too.
unique_fd accept_client_fallback(int listen_fd, int& err) noexcept;

// Sets FD_CLOEXEC; returns 0 or fcntl(2)'s errno.
int set_cloexec(int fd) noexcept;

// Clears or sets O_NONBLOCK.
void set_nonblocking(int fd, bool on, const char* what);

}  // namespace npipe::posix
