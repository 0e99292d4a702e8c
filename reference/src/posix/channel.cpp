// The Channel profile on POSIX (include/npipe/channel.hpp): AF_UNIX stream sockets carrying
// Python's multiprocessing.connection framing and authentication handshake.
//
// Choices this file makes where the spec leaves room (documented for spec/npipe.md):
// - A client that connected and left before accept: with an authkey, accept() fails with
//   auth_failed for that client (the handshake finds the connection closed) and the next accept()
//   serves the next client (CHAN-CONNECT-2). Without an authkey, accept() returns the connection,
//   as CPython does: whatever it sent before leaving is still delivered, then EOF.
// - The handshake deadline is handshake_timeout from the moment the handshake starts (in accept,
//   or in authenticate after accept_unauthenticated), cut short by the caller's deadline when
//   that is a point in time (not forever, not immediate).
// - An empty authkey ("") runs the handshake, as CPython 3.13 does (3.11 and 3.12 listeners skip
//   it for b'' while their clients wait for it, gh-88118).
// - recv_bytes/poll on a closed connection, and recv_bytes on a write-only one, give io_error
//   naming why (CPython: OSError "handle is closed" / "connection is write-only").
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "common/framing.hpp"
#include "common/handshake.hpp"
#include "npipe/channel.hpp"
#include "npipe/error.hpp"
#include "npipe/name.hpp"
#include "posix/errors.hpp"
#include "posix/frame_reader.hpp"
#include "posix/socket_io.hpp"
#include "posix/unix_listener_socket.hpp"
#include "posix/unix_socket.hpp"

namespace npipe {

// ---------------------------------------------------------------------------------------------
// connection

struct connection::impl final : handshake::message_transport {
  explicit impl(posix::unique_fd f) : fd(std::move(f)) {}

  void send_message(const std::uint8_t* data, std::size_t n) override {
    const framing::header h = framing::encode_header(n);
    posix::send_two_parts(fd.get(), h.bytes.data(), h.size, data, n);
  }

  std::optional<std::vector<std::uint8_t>> receive_message(std::size_t maxlength,
                                                           deadline d) override {
    std::optional<bytes> m = reader.read(fd.get(), maxlength, d);
    if (!m) return std::nullopt;
    return std::vector<std::uint8_t>(m->begin(), m->end());  // a handshake message: <= 256 bytes
  }

  posix::unique_fd fd;
  posix::frame_reader reader;
  bool readable = true;
  bool writable = true;
  std::optional<handshake::owed_listener_handshake> owed;  // until authenticate() (CHAN-AUTH-13)
};

namespace {

[[noreturn]] void throw_closed(const char* op) {
  throw error(errc::io_error, std::string(op) + " on a closed connection", EBADF, "EBADF");
}

}  // namespace

connection::connection() noexcept = default;
connection::connection(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}
connection::connection(connection&&) noexcept = default;
connection& connection::operator=(connection&&) noexcept = default;
connection::~connection() = default;

connection connection::connect(std::string_view address, const auth_options& opts, deadline d) {
  const std::string path = platform_name(address, name_kind::channel);
  auto p = std::make_unique<impl>(posix::connect_unix(path, d));
  if (opts.authkey) {
    // The client answers first, then challenges (CHAN-AUTH-1).
    const deadline hd = handshake::handshake_deadline(opts.handshake_timeout, d);
    handshake::client_handshake(*p, *opts.authkey, opts.challenge, hd);
  }
  return connection(std::move(p));
}

bool connection::is_open() const noexcept {
  return impl_ && impl_->fd.valid();
}
bool connection::readable() const noexcept {
  return is_open() && impl_->readable;
}
bool connection::writable() const noexcept {
  return is_open() && impl_->writable;
}
native_handle_t connection::native_handle() const noexcept {
  return impl_ ? impl_->fd.get() : -1;
}

void connection::send_bytes(const void* data, std::size_t n) {
  if (!is_open()) throw_closed("send_bytes");
  handshake::check_nothing_owed(impl_->owed, "send_bytes");
  if (!impl_->writable) throw error(errc::io_error, "send_bytes on a read-only connection");
  impl_->send_message(static_cast<const std::uint8_t*>(data), n);
}

namespace {

// One receive by the frame reader, with the checks and the failure rule both forms share.
template <class Receive>
auto receive_checked(connection::impl* c, const char* op, Receive&& receive_with_reader) {
  if (!c || !c->fd.valid()) throw_closed(op);
  handshake::check_nothing_owed(c->owed, op);
  if (!c->readable) {
    throw error(errc::io_error,
                std::string(op) +
                    " on a write-only connection: an earlier message was refused as too long or "
                    "could not be parsed, so the stream cannot be read any further");
  }
  try {
    return receive_with_reader(c->reader, c->fd.get());
  } catch (const error&) {
    // CPython's _bad_message_length: the connection stays usable for sending only, and is
    // closed if it could not send either (CHAN-RECV-2).
    if (c->reader.stream_lost()) {
      c->readable = false;
      if (!c->writable) c->fd.reset();
    }
    throw;
  }
}

}  // namespace

std::optional<bytes> connection::recv_bytes(std::size_t maxlength, deadline d) {
  return receive_checked(impl_.get(), "recv_bytes",
                         [&](posix::frame_reader& r, int fd) { return r.read(fd, maxlength, d); });
}

std::optional<std::size_t> connection::recv_bytes_into(void* buf, std::size_t capacity,
                                                       deadline d) {
  return receive_checked(impl_.get(), "recv_bytes_into", [&](posix::frame_reader& r, int fd) {
    return r.read_into(fd, static_cast<std::uint8_t*>(buf), capacity, d);
  });
}

bool connection::poll(deadline d) {
  if (!is_open()) throw_closed("poll");
  handshake::check_nothing_owed(impl_->owed, "poll");
  if (!impl_->readable) throw error(errc::io_error, "poll on a write-only connection");
  // As CPython: readable data or EOF on the socket, not necessarily a whole message.
  return posix::wait_ready(impl_->fd.get(), POLLIN, d);
}

void connection::authenticate(deadline d) {
  if (!is_open()) throw_closed("authenticate");
  try {
    handshake::run_owed(*impl_, impl_->owed, d);
  } catch (...) {
    close();  // a client that failed the handshake gets nothing more from this side
    throw;
  }
}

void connection::close() noexcept {
  if (!impl_) return;
  impl_->fd.reset();
  impl_->readable = false;
  impl_->writable = false;
}

// ---------------------------------------------------------------------------------------------
// listener

struct listener::impl {
  posix::bound_listener socket;
  std::string path;
  listener_options opts;
};

listener::listener() noexcept = default;
listener::listener(listener&&) noexcept = default;
listener& listener::operator=(listener&& other) noexcept {
  if (this != &other) {
    close();
    impl_ = std::move(other.impl_);
  }
  return *this;
}
listener::~listener() {
  close();
}

listener listener::listen(std::string_view address, const listener_options& opts) {
  listener l;
  l.impl_ = std::make_unique<impl>();
  l.impl_->path = platform_name(address, name_kind::channel);
  l.impl_->opts = opts;
  l.impl_->socket = posix::bind_unix_listener(l.impl_->path, opts.mode, opts.backlog);
  return l;
}

const std::string& listener::address() const noexcept {
  static const std::string none;
  return impl_ ? impl_->path : none;
}

native_handle_t listener::native_handle() const noexcept {
  return impl_ ? impl_->socket.fd.get() : -1;
}

connection listener::accept(deadline d) {
  connection c = accept_unauthenticated(d);
  c.authenticate(d);
  return c;
}

connection listener::accept_unauthenticated(deadline d) {
  if (!impl_ || !impl_->socket.fd) {
    throw error(errc::io_error, "accept on a closed listener", EBADF, "EBADF");
  }
  const int lfd = impl_->socket.fd.get();
  const std::string what = "accept on '" + impl_->path + "'";
  posix::unique_fd fd;
  // Take a client already waiting first (the listening socket is non-blocking), then wait: a busy
  // listener makes one system call per client instead of two.
  for (;;) {
    int err = 0;
    fd = posix::accept_client(lfd, err);
    if (fd) break;
    if (err == EINTR || err == ECONNABORTED) continue;  // a client that left before accept
    if (err != EAGAIN && err != EWOULDBLOCK) posix::throw_errno(err, what);
    // Nothing to take (yet, or another thread took it): wait for the next client.
    posix::wait_ready_or_throw(lfd, POLLIN, d, what.c_str());
  }
  auto p = std::make_unique<connection::impl>(std::move(fd));
  if (impl_->opts.authkey) {
    p->owed = handshake::owed_listener_handshake{*impl_->opts.authkey, impl_->opts.challenge,
                                                 impl_->opts.handshake_timeout};
  }
  return connection(std::move(p));
}

void listener::close() noexcept {
  if (!impl_ || !impl_->socket.fd) return;
  // Unlink first, then close, as libuv's uv__pipe_close does (src/unix/pipe.c). While our socket
  // still listens, a listener starting at the same path meets a live socket and gives up
  // (already_exists, CHAN-LISTEN-2); once it is closed, that listener may judge the file stale,
  // remove it and bind its own, and our check-then-unlink could then remove the new, live
  // socket. Unlinking while we still listen leaves no such window: whatever the starting
  // listener finds is either our live socket or nothing.
  posix::unlink_if_same_socket(impl_->path, impl_->socket.dev, impl_->socket.ino);
  impl_->socket.fd.reset();
}

}  // namespace npipe
