// npipe::connection and npipe::listener, written once over the backend (common/backend.hpp): the
// checks, the two forms of each call, the handshake (common/handshake.hpp), and the read-only and
// write-only states.
//
// Choices made here where the spec leaves room (documented for spec/npipe.md):
// - A client that connected and left before accept: with an authkey, accept() fails with
//   auth_failed for that client (the handshake finds the connection closed) and the next accept()
//   serves the next client (CHAN-CONNECT-2). Without an authkey, accept() returns the connection,
//   as CPython does: whatever it sent before leaving is still delivered, then EOF.
// - The handshake deadline is handshake_timeout from the moment the handshake starts (in accept,
//   or in authenticate after accept_unauthenticated), cut short by the caller's deadline when
//   that is a point in time (not forever, not immediate). Its sends are held to it too.
// - An empty authkey ("") runs the handshake, as CPython 3.13 does (3.11 and 3.12 listeners skip
//   it for b'' while their clients wait for it, gh-88118).
// - recv_bytes/poll on a closed connection, and recv_bytes on a write-only one, give io_error
//   naming why (CPython: OSError "handle is closed" / "connection is write-only").
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/backend.hpp"
#include "common/call.hpp"
#include "common/handshake.hpp"
#include "npipe/channel.hpp"
#include "npipe/error.hpp"
#include "npipe/name.hpp"

namespace npipe {

struct connection::impl {
  std::unique_ptr<backend::message_stream> stream;  // null once closed
  std::string address;                              // for messages
  bool readable = true;
  bool writable = true;
  std::optional<handshake::owed_listener_handshake> owed;  // until authenticate() (CHAN-AUTH-13)
};

struct listener::impl {
  std::unique_ptr<backend::listening_endpoint> endpoint;  // null once closed
  std::string path;
  listener_options opts;
};

namespace {

// The handshake's view of a stream: whole messages, every send and receive held to the
// handshake's deadline.
class stream_transport final : public handshake::message_transport {
 public:
  stream_transport(backend::message_stream& s, deadline d) : s_(s), d_(d) {}

  void send_message(const std::uint8_t* data, std::size_t n) override {
    if (s_.send(data, n, d_).expired) {
      throw error(errc::timeout,
                  "authentication handshake: a message could not be sent before "
                  "the deadline (the peer does not read)");
    }
  }

  std::optional<std::vector<std::uint8_t>> receive_message(std::size_t maxlength,
                                                           deadline d) override {
    bytes m;
    switch (s_.receive(maxlength, d, m)) {
      case backend::message_stream::received::eof:
        return std::nullopt;
      case backend::message_stream::received::expired:
        throw error(detail::not_ready_code(d),
                    "authentication handshake: no message before the "
                    "deadline");
      case backend::message_stream::received::message:
        break;
    }
    return std::vector<std::uint8_t>(m.begin(), m.end());  // a handshake message: <= 256 bytes
  }

 private:
  backend::message_stream& s_;
  deadline d_;
};

std::string where(const connection::impl* c, const char* op) {
  return std::string(op) + " on '" + c->address + "'";
}

// The open stream of a connection, or the reason there is none.
backend::message_stream& open_stream(connection::impl* c, const char* op) {
  if (!c || !c->stream) throw error(errc::io_error, std::string(op) + " on a closed connection");
  return *c->stream;
}

// The stream for a send, a receive or a poll: open, no handshake owed.
backend::message_stream& ready_stream(connection::impl* c, const char* op) {
  backend::message_stream& s = open_stream(c, op);
  handshake::check_nothing_owed(c->owed, op);
  return s;
}

backend::message_stream& readable_stream(connection::impl* c, const char* op) {
  backend::message_stream& s = ready_stream(c, op);
  if (!c->readable) {
    throw error(errc::io_error,
                std::string(op) +
                    " on a write-only connection: an earlier message was refused as too long or "
                    "could not be parsed, so the stream cannot be read any further");
  }
  return s;
}

// After a receive failed: CPython's _bad_message_length rule. The connection stays usable for
// sending only, and is closed if it could not send either (CHAN-RECV-2).
void after_receive_failure(connection::impl* c) noexcept {
  if (c->stream && c->stream->stream_lost()) {
    c->readable = false;
    if (!c->writable) c->stream.reset();
  }
}

// One receive of either form; `expired` when the deadline passed first.
template <class Receive>
backend::message_stream::received receive_checked(connection::impl* c, const char* op,
                                                  Receive&& receive) {
  backend::message_stream& s = readable_stream(c, op);
  try {
    return receive(s);
  } catch (const error&) {
    after_receive_failure(c);
    throw;
  }
}

// One send; false when the deadline passed first (then, if part of the message went, the
// connection is write-disabled: nothing after it could be parsed by the peer).
bool send_checked(connection::impl* c, const void* data, std::size_t n, deadline d,
                  std::string& why) {
  backend::message_stream& s = ready_stream(c, "send_bytes");
  if (!c->writable) {
    throw error(errc::io_error,
                "send_bytes on a connection that can send no more: an earlier send was cut by its "
                "deadline in the middle of a message");
  }
  const backend::progress p = s.send(static_cast<const std::uint8_t*>(data), n, d);
  if (!p.expired) return true;
  why = where(c, "send_bytes");
  if (p.count > 0) {
    c->writable = false;
    why += ": the deadline cut the message (" + std::to_string(n) + " bytes) after " +
           std::to_string(p.count) + " bytes on the wire; the connection can send no more";
    if (!c->readable) c->stream.reset();
  }
  return false;
}

connection make_connection(std::unique_ptr<backend::message_stream> s, std::string address) {
  auto p = std::make_unique<connection::impl>();
  p->stream = std::move(s);
  p->address = std::move(address);
  return connection(std::move(p));
}

}  // namespace

// ---- connection --------------------------------------------------------------------------------

connection::connection() noexcept = default;
connection::connection(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}
connection::connection(connection&&) noexcept = default;
connection& connection::operator=(connection&&) noexcept = default;
connection::~connection() = default;

connection connection::connect(std::string_view address, const auth_options& opts, deadline d) {
  std::string path = platform_name(address, name_kind::channel);
  std::unique_ptr<backend::message_stream> s = backend::connect(path, d);
  if (opts.authkey) {
    // The client answers first, then challenges (CHAN-AUTH-1).
    const deadline hd = handshake::handshake_deadline(opts.handshake_timeout, d);
    stream_transport t(*s, hd);
    handshake::client_handshake(t, *opts.authkey, opts.challenge, hd);
  }
  return make_connection(std::move(s), std::move(path));
}

connection connection::connect(std::string_view address, const auth_options& opts, deadline d,
                               std::error_code& ec) noexcept {
  return detail::with_error_code(ec, connection(), [&] { return connect(address, opts, d); });
}

connection connection::from_native(native_handle_t h) {
  return make_connection(backend::adopt_connection(h), "(adopted)");
}

connection connection::from_native(native_handle_t h, std::error_code& ec) noexcept {
  return detail::with_error_code(ec, connection(), [&] { return from_native(h); });
}

bool connection::is_open() const noexcept {
  return impl_ && impl_->stream;
}
bool connection::readable() const noexcept {
  return is_open() && impl_->readable;
}
bool connection::writable() const noexcept {
  return is_open() && impl_->writable;
}
native_handle_t connection::native_handle() const noexcept {
  return is_open() ? impl_->stream->native_handle() : invalid_native_handle;
}

native_handle_t connection::release() {
  backend::message_stream& s = open_stream(impl_.get(), "release");
  if (impl_->owed) {
    throw error(errc::io_error, where(impl_.get(), "release") +
                                    ": the handshake this connection owes has not run yet");
  }
  if (s.holds_partial_message()) {
    throw error(errc::io_error, where(impl_.get(), "release") +
                                    ": part of a message received before a deadline is held "
                                    "here and would be lost; receive it first");
  }
  native_handle_t h = s.release();
  impl_->stream.reset();
  return h;
}

native_handle_t connection::release(std::error_code& ec) noexcept {
  return detail::with_error_code(ec, invalid_native_handle, [&] { return release(); });
}

peer_credentials connection::peer() const {
  return open_stream(impl_.get(), "peer").peer();
}

peer_credentials connection::peer(std::error_code& ec) const noexcept {
  return detail::with_error_code(ec, peer_credentials(), [&] { return peer(); });
}

void connection::send_bytes(const void* data, std::size_t n) {
  send_bytes(data, n, deadline::forever());
}

void connection::send_bytes(const void* data, std::size_t n, deadline d) {
  std::string why;
  if (!send_checked(impl_.get(), data, n, d, why)) detail::throw_not_ready(d, why);
}

void connection::send_bytes(const void* data, std::size_t n, deadline d,
                            std::error_code& ec) noexcept {
  detail::with_error_code(ec, [&] {
    std::string why;
    if (!send_checked(impl_.get(), data, n, d, why)) {
      ec = make_error_code(detail::not_ready_code(d));
    }
  });
}

std::optional<bytes> connection::recv_bytes(std::size_t maxlength, deadline d) {
  bytes out;
  switch (receive_checked(impl_.get(), "recv_bytes", [&](backend::message_stream& s) {
    return s.receive(maxlength, d, out);
  })) {
    case backend::message_stream::received::message:
      return out;
    case backend::message_stream::received::eof:
      return std::nullopt;
    case backend::message_stream::received::expired:
      break;
  }
  detail::throw_not_ready(d, where(impl_.get(), "recv_bytes") + ": no whole message");
}

std::optional<bytes> connection::recv_bytes(std::size_t maxlength, deadline d,
                                            std::error_code& ec) noexcept {
  return detail::with_error_code(ec, std::optional<bytes>(), [&]() -> std::optional<bytes> {
    bytes out;
    switch (receive_checked(impl_.get(), "recv_bytes", [&](backend::message_stream& s) {
      return s.receive(maxlength, d, out);
    })) {
      case backend::message_stream::received::message:
        return out;
      case backend::message_stream::received::eof:
        return std::nullopt;
      case backend::message_stream::received::expired:
        break;
    }
    ec = make_error_code(detail::not_ready_code(d));
    return std::nullopt;
  });
}

std::optional<std::size_t> connection::recv_bytes_into(void* buf, std::size_t capacity,
                                                       deadline d) {
  std::size_t length = 0;
  switch (receive_checked(impl_.get(), "recv_bytes_into", [&](backend::message_stream& s) {
    return s.receive_into(static_cast<std::uint8_t*>(buf), capacity, d, length);
  })) {
    case backend::message_stream::received::message:
      return length;
    case backend::message_stream::received::eof:
      return std::nullopt;
    case backend::message_stream::received::expired:
      break;
  }
  detail::throw_not_ready(d, where(impl_.get(), "recv_bytes_into") + ": no whole message");
}

std::optional<std::size_t> connection::recv_bytes_into(void* buf, std::size_t capacity, deadline d,
                                                       std::error_code& ec) noexcept {
  return detail::with_error_code(
      ec, std::optional<std::size_t>(), [&]() -> std::optional<std::size_t> {
        std::size_t length = 0;
        switch (receive_checked(impl_.get(), "recv_bytes_into", [&](backend::message_stream& s) {
          return s.receive_into(static_cast<std::uint8_t*>(buf), capacity, d, length);
        })) {
          case backend::message_stream::received::message:
            return length;
          case backend::message_stream::received::eof:
            return std::nullopt;
          case backend::message_stream::received::expired:
            break;
        }
        ec = make_error_code(detail::not_ready_code(d));
        return std::nullopt;
      });
}

bool connection::poll(deadline d) {
  return readable_stream(impl_.get(), "poll").wait_readable(d);
}

bool connection::poll(deadline d, std::error_code& ec) noexcept {
  return detail::with_error_code(ec, false, [&] { return poll(d); });
}

void connection::authenticate(deadline d) {
  backend::message_stream& s = open_stream(impl_.get(), "authenticate");
  if (!impl_->owed) return;
  try {
    stream_transport t(s, handshake::handshake_deadline(impl_->owed->timeout, d));
    handshake::run_owed(t, impl_->owed, d);
  } catch (...) {
    close();  // a client that failed the handshake gets nothing more from this side
    throw;
  }
}

void connection::authenticate(deadline d, std::error_code& ec) noexcept {
  detail::with_error_code(ec, [&] { authenticate(d); });
}

void connection::close() noexcept {
  if (!impl_) return;
  impl_->stream.reset();
  impl_->readable = false;
  impl_->writable = false;
}

// ---- listener ----------------------------------------------------------------------------------

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
  auto p = std::make_unique<impl>();
  p->path = platform_name(address, name_kind::channel);
  p->opts = opts;
  p->endpoint = backend::listen(p->path, opts);
  listener l;
  l.impl_ = std::move(p);
  return l;
}

listener listener::listen(std::string_view address, const listener_options& opts,
                          std::error_code& ec) noexcept {
  return detail::with_error_code(ec, listener(), [&] { return listen(address, opts); });
}

const std::string& listener::address() const noexcept {
  static const std::string none;
  return impl_ ? impl_->path : none;
}

native_handle_t listener::native_handle() const noexcept {
  return impl_ && impl_->endpoint ? impl_->endpoint->native_handle() : invalid_native_handle;
}

connection listener::accept(deadline d) {
  connection c = accept_unauthenticated(d);
  c.authenticate(d);
  return c;
}

connection listener::accept(deadline d, std::error_code& ec) noexcept {
  return detail::with_error_code(ec, connection(), [&] {
    connection c = accept_unauthenticated(d, ec);
    if (!ec) c.authenticate(d);
    return c;
  });
}

namespace {

// accept_unauthenticated's work; an empty connection when the deadline passed first.
connection accept_one(listener::impl* l, deadline d) {
  if (!l || !l->endpoint) throw error(errc::io_error, "accept on a closed listener");
  std::unique_ptr<backend::message_stream> s = l->endpoint->accept(d);
  if (!s) return connection();
  auto p = std::make_unique<connection::impl>();
  p->stream = std::move(s);
  p->address = l->path;
  if (l->opts.authkey) {
    p->owed = handshake::owed_listener_handshake{*l->opts.authkey, l->opts.challenge,
                                                 l->opts.handshake_timeout};
  }
  return connection(std::move(p));
}

}  // namespace

connection listener::accept_unauthenticated(deadline d) {
  connection c = accept_one(impl_.get(), d);
  if (!c.is_open()) {
    detail::throw_not_ready(d, "accept on '" + impl_->path + "'");
  }
  return c;
}

connection listener::accept_unauthenticated(deadline d, std::error_code& ec) noexcept {
  return detail::with_error_code(ec, connection(), [&] {
    connection c = accept_one(impl_.get(), d);
    if (!c.is_open()) ec = make_error_code(detail::not_ready_code(d));
    return c;
  });
}

void listener::close() noexcept {
  if (impl_) impl_->endpoint.reset();
}

}  // namespace npipe
