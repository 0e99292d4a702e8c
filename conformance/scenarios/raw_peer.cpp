// raw_peer.cpp: the driver as a raw AF_UNIX peer (see raw_peer.hpp).
#include "raw_peer.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace npipe::conformance::raw {
namespace {

using clock_type = std::chrono::steady_clock;

int left_ms(clock_type::time_point end) {
  auto l = std::chrono::duration_cast<milliseconds>(end - clock_type::now()).count();
  return l < 0 ? 0 : static_cast<int>(l);
}

sockaddr_un address(scene& s, const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof a.sun_path) s.fail("driver: socket path too long: " + path);
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  return a;
}

// Waits for `events` on fd; false on timeout.
bool wait(int fd, short events, clock_type::time_point end) {
  for (;;) {
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, left_ms(end));
    if (rc < 0 && errno == EINTR) continue;
    return rc > 0;
  }
}

// A close-on-exec, non-blocking descriptor: Linux and the BSDs set both flags as they make it
// (SOCK_CLOEXEC, SOCK_NONBLOCK, accept4); macOS has none of them and sets them right after (its
// agents are spawned with POSIX_SPAWN_CLOEXEC_DEFAULT, so none inherits the socket meanwhile).
#ifdef SOCK_CLOEXEC
int stream_socket() {
  return ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
}
int accept_from(int listener) {
  return ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
}
#else
int cloexec_nonblocking(int fd) {
  if (fd >= 0) {
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  return fd;
}
int stream_socket() {
  return cloexec_nonblocking(::socket(AF_UNIX, SOCK_STREAM, 0));
}
int accept_from(int listener) {
  return cloexec_nonblocking(::accept(listener, nullptr, nullptr));
}
#endif
// The driver ignores SIGPIPE process-wide (platform::init), so a send to a peer that left is
// EPIPE either way; MSG_NOSIGNAL where it exists says so at the call too.
#ifdef MSG_NOSIGNAL
constexpr int kSendFlags = MSG_NOSIGNAL;
#else
constexpr int kSendFlags = 0;
#endif

}  // namespace

int connect(scene& s, const std::string& path, milliseconds limit) {
  auto end = clock_type::now() + limit;
  sockaddr_un a = address(s, path);
  for (;;) {
    int fd = s.adopt_fd(stream_socket());
    int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    if (rc == 0) return fd;
    int e = errno;
    if (e == EINPROGRESS || e == EAGAIN) {
      if (!wait(fd, POLLOUT, end)) s.fail("driver: connect to " + path + " did not complete");
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == 0) return fd;
      e = err;
    }
    s.close_fd(fd);
    if (left_ms(end) == 0) s.fail("driver: cannot connect to " + path + ": " + std::strerror(e));
    // The listener may not be up yet (it is started by an agent command in flight): wait for
    // the socket file by polling nothing, bounded by the deadline.
    ::poll(nullptr, 0, 5);
  }
}

int listen(scene& s, const std::string& path) {
  sockaddr_un a = address(s, path);
  int fd = s.adopt_fd(stream_socket());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 16) != 0)
    s.fail(std::string("driver: cannot listen at ") + path + ": " + std::strerror(errno));
  s.driver_made(path);
  return fd;
}

int listen_full(scene& s, const std::string& path, int& queued) {
  sockaddr_un a = address(s, path);
  int l = s.adopt_fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(l, 0) != 0)
    s.fail(std::string("driver: cannot listen at ") + path + ": " + std::strerror(errno));
  s.driver_made(path);
  for (queued = 0; queued < 64; ++queued) {
    int fd = s.adopt_fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) continue;
    int e = errno;
    s.close_fd(fd);
    if (e == EAGAIN) return l;
    s.fail(std::string("driver: filling the backlog of ") + path + ": " + std::strerror(e));
  }
  s.fail("driver: the listen queue of " + path + " took 64 connections and is still not full");
}

int accept(scene& s, int listener, milliseconds limit) {
  auto end = clock_type::now() + limit;
  if (!wait(listener, POLLIN, end)) s.fail("driver: no client connected within the deadline");
  int fd = accept_from(listener);
  if (fd < 0) s.fail(std::string("driver: accept failed: ") + std::strerror(errno));
  return s.adopt_fd(fd);
}

void send(scene& s, int fd, std::string_view bytes, milliseconds limit) {
  auto end = clock_type::now() + limit;
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, kSendFlags);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait(fd, POLLOUT, end)) s.fail("driver: the agent stopped reading (send timed out)");
    } else {
      s.fail(std::string("driver: send failed: ") + std::strerror(errno));
    }
  }
}

std::optional<std::string> recv_exact(scene& s, int fd, std::size_t n, milliseconds limit,
                                      std::string* partial) {
  auto end = clock_type::now() + limit;
  std::string out;
  while (out.size() < n) {
    char buf[65536];
    ssize_t r = ::recv(fd, buf, std::min(sizeof buf, n - out.size()), 0);
    if (r > 0) {
      out.append(buf, static_cast<std::size_t>(r));
    } else if (r == 0) {
      if (partial) *partial = out;
      return std::nullopt;
    } else if (errno == EAGAIN || errno == EINTR) {
      if (!wait(fd, POLLIN, end))
        s.fail("driver: expected " + std::to_string(n) + " bytes from the agent, got " +
               std::to_string(out.size()) + " before the deadline");
    } else if (errno == ECONNRESET) {
      if (partial) *partial = out;
      return std::nullopt;
    } else {
      s.fail(std::string("driver: recv failed: ") + std::strerror(errno));
    }
  }
  return out;
}

bool sees_eof(scene& s, int fd, milliseconds limit) {
  std::string partial;
  auto r = recv_exact(s, fd, 1, limit, &partial);
  if (r) s.fail("driver: expected EOF, but the agent sent more bytes");
  return true;
}

std::string header32(std::int32_t n) {
  auto u = static_cast<std::uint32_t>(n);
  std::string h(4, '\0');
  for (int i = 0; i < 4; ++i)
    h[i] = static_cast<char>((u >> (24 - 8 * i)) & 0xff);
  return h;
}

std::string frame(std::string_view payload) {
  return header32(static_cast<std::int32_t>(payload.size())) + std::string(payload);
}

std::string escaped_frame(std::string_view payload) {
  std::string h = header32(-1);
  std::uint64_t n = payload.size();
  for (int i = 0; i < 8; ++i)
    h += static_cast<char>((n >> (56 - 8 * i)) & 0xff);
  return h + std::string(payload);
}

std::optional<std::string> recv_frame(scene& s, int fd, milliseconds limit, std::uint32_t* header) {
  auto h = recv_exact(s, fd, 4, limit);
  if (!h) return std::nullopt;
  std::uint32_t u = 0;
  for (unsigned char c : *h)
    u = (u << 8) | c;
  if (header) *header = u;
  auto n = static_cast<std::int32_t>(u);
  std::uint64_t size = static_cast<std::uint32_t>(n);
  if (n == -1) {
    auto l = recv_exact(s, fd, 8, limit);
    if (!l) s.fail("EOF inside an escaped frame header");
    size = 0;
    for (unsigned char c : *l)
      size = (size << 8) | c;
  } else if (n < 0) {
    s.fail("the agent sent a negative frame length " + std::to_string(n), {"CHAN-FRAME-1"});
  }
  if (size > (1u << 28))
    s.fail("the agent sent a frame header of " + std::to_string(size) + " bytes");
  auto body = recv_exact(s, fd, size, limit);
  if (!body) s.fail("EOF inside a frame sent by the agent");
  return body;
}

std::string hmac(const std::string& digest, std::string_view key, std::string_view msg) {
  std::string name = digest;
  if (name == "sha3_256") name = "sha3-256";
  if (name == "sha3_384") name = "sha3-384";
  const EVP_MD* md = EVP_get_digestbyname(name.c_str());
  if (!md) return {};
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n));
  return out;
}

}  // namespace npipe::conformance::raw
