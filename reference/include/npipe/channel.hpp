// npipe/channel.hpp: the Channel profile, a duplex message connection with a listener that
// accepts many clients, wire-compatible with Python's multiprocessing.connection (spec: CHAN-*).
//
//   server: auto l = npipe::listener::listen("jobs.sock", {/*authkey*/ "secret"});
//           npipe::connection c = l.accept();
//           auto msg = c.recv_bytes();            // std::nullopt at EOF
//   client: auto c = npipe::connection::connect("jobs.sock", {"secret"});
//           c.send_bytes("hello", 5);
//
// POSIX: an AF_UNIX stream socket with Python's length framing. Windows: a message-mode named
// pipe, one message per send, as Python's PipeConnection.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "npipe/deadline.hpp"
#include "npipe/handle.hpp"

namespace npipe {

// An allocator that leaves the elements it makes for resize() default-initialised: for bytes,
// not written at all. A received message is written once, by the receive itself, instead of
// being zeroed first and then overwritten (std::allocator value-initialises: it zeroes).
template <class T>
class default_init_allocator : public std::allocator<T> {
 public:
  template <class U>
  struct rebind {
    using other = default_init_allocator<U>;
  };
  default_init_allocator() noexcept = default;
  template <class U>
  default_init_allocator(const default_init_allocator<U>&) noexcept {}

  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible<U>::value) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

// One received message. A std::vector of bytes whose resize() does not zero what it adds; it
// converts to and compares with std::vector<std::uint8_t> only element-wise
// (std::vector<std::uint8_t>(b.begin(), b.end())).
using bytes = std::vector<std::uint8_t, default_init_allocator<std::uint8_t>>;

// The challenge this side sends when it is the challenger (CHAN-AUTH-*). As the responder, npipe
// answers whichever form it is challenged with, and as the verifier it accepts every answer
// Python 3.12+ accepts.
enum class challenge_form {
  sha256,      // Python 3.12+: "{sha256}" + 40 random bytes, answered "{digest}" + HMAC
  legacy_md5,  // Python <= 3.11: 20 random bytes, answered with the raw 16-byte HMAC-MD5
};

struct auth_options {
  // The shared key, as bytes. No value: no handshake at all (Python's authkey=None).
  std::optional<std::string> authkey;
  challenge_form challenge = challenge_form::sha256;
  // The whole handshake must finish within this, or the call fails with timeout (CHAN-AUTH-8).
  std::chrono::milliseconds handshake_timeout{10000};
};

struct listener_options : auth_options {
  int backlog = 128;
  // Permission bits of the socket file, applied before any client can connect (CHAN-LISTEN-1).
  unsigned mode = 0600;
};

class connection {
 public:
  // Connects to a listener and runs the handshake when opts.authkey is set. not_found when no
  // listener is there; auth_failed on a wrong key; timeout when `d` passes first.
  static connection connect(std::string_view address, const auth_options& opts = {},
                            deadline d = deadline::forever());

  connection() noexcept;
  connection(connection&&) noexcept;
  connection& operator=(connection&&) noexcept;
  ~connection();

  bool is_open() const noexcept;
  // False after a recv_bytes refused a message as too long (CHAN-RECV-2), or after close().
  bool readable() const noexcept;
  bool writable() const noexcept;
  native_handle_t native_handle() const noexcept;

  // Sends one message of n bytes (0 allowed). broken_pipe when the peer is gone, never a signal.
  void send_bytes(const void* data, std::size_t n);
  void send_bytes(std::string_view data) { send_bytes(data.data(), data.size()); }

  // Receives one message. std::nullopt at EOF on a message boundary; protocol_error at EOF inside
  // a message. A message longer than maxlength gives message_too_long without reading or
  // allocating it, and the connection then becomes write-only (CHAN-RECV-*).
  std::optional<bytes> recv_bytes(std::size_t maxlength = SIZE_MAX,
                                  deadline d = deadline::forever());

  // Receives one message into the caller's buffer of `capacity` bytes and returns its length;
  // std::nullopt at EOF on a message boundary. Nothing is allocated: for receiving many messages
  // into one reused buffer. A message longer than `capacity` is refused exactly as recv_bytes
  // refuses one longer than maxlength (message_too_long, then write-only). What the buffer holds
  // beyond the returned length, or after an error, is unspecified.
  std::optional<std::size_t> recv_bytes_into(void* buf, std::size_t capacity,
                                             deadline d = deadline::forever());

  // True when a message (or EOF) can be received without waiting past `d`.
  bool poll(deadline d = deadline::immediate());

  // Runs the listener's half of the handshake that a connection from
  // listener::accept_unauthenticated() still owes, by `d` cut short by the listener's
  // handshake_timeout. Does nothing when no handshake is owed. Until it has succeeded, send, recv
  // and poll fail with io_error; when it fails (auth_failed, timeout) the connection is closed.
  void authenticate(deadline d = deadline::forever());

  void close() noexcept;

  struct impl;
  explicit connection(std::unique_ptr<impl> p) noexcept;

 private:
  std::unique_ptr<impl> impl_;
};

class listener {
 public:
  // Starts listening. already_exists when a live listener or any non-socket file holds the
  // address; a stale socket file (connect refused) is replaced (CHAN-LISTEN-*).
  static listener listen(std::string_view address, const listener_options& opts = {});

  listener() noexcept;
  listener(listener&&) noexcept;
  listener& operator=(listener&&) noexcept;
  ~listener();

  const std::string& address() const noexcept;
  native_handle_t native_handle() const noexcept;

  // Accepts one client and runs the handshake (challenge first, then answer, as Python does).
  // A client that fails the handshake gives auth_failed; the listener stays usable.
  connection accept(deadline d = deadline::forever());

  // Accepts one client and leaves the handshake to connection::authenticate(), so that a server
  // can run each client's handshake on its own thread: a client that never speaks then delays
  // only itself, not the clients behind it (CHAN-AUTH-13). Without an authkey it is accept().
  connection accept_unauthenticated(deadline d = deadline::forever());

  // Stops listening and removes the socket file if it is still this listener's. Idempotent.
  void close() noexcept;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace npipe
