// What a platform provides to npipe: the backend interface.
//
// The public classes (fifo_end, fifo_owner, connection, listener, platform_name) are implemented
// once, in src/common (fifo.cpp, channel.cpp, name.cpp): argument and state checks, the
// error_code and throwing forms, the naming of would_block and timeout, the authentication
// handshake, write_all's loop, the read-only and write-only states. A platform implements only
// what is declared here, in its own directory (src/posix, src/win32); a port to a third platform
// writes a new directory of these and nothing else.
//
// Conventions:
//   - A call that may wait takes a deadline. When it passes first, the call says so in its result
//     (progress::expired, received::expired, nullptr) and does not throw: the front end names it
//     would_block (deadline::immediate()) or timeout, and the error_code forms never see an
//     exception for it. The opening calls (create, open, connect, listen) may instead throw
//     npipe::error(timeout / would_block) with a message of their own.
//   - Every other failure throws npipe::error with the portable code, the native code and a
//     message naming the call and the path.
//   - Objects are used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "npipe/channel.hpp"
#include "npipe/deadline.hpp"
#include "npipe/fifo.hpp"
#include "npipe/handle.hpp"
#include "npipe/name.hpp"

namespace npipe::backend {

// How far a read, write or send got.
struct progress {
  std::size_t count = 0;  // bytes moved; for a read 0 means end of file (unless expired)
  bool expired = false;   // the deadline passed; `count` bytes had been moved before it
};

// ---- names (NAME-*) ------------------------------------------------------------------------

// The platform name of `name`, which the front end has checked is not empty and holds no NUL.
// Throws invalid_name saying what is wrong, with reject_name.
std::string platform_name(std::string_view name, name_kind kind);
// Throws invalid_name: "invalid FIFO name: <why>" (or channel). Provided by the front end.
[[noreturn]] void reject_name(name_kind kind, const std::string& why);

// ---- FIFO profile (FIFO-*) -------------------------------------------------------------------

// One open end.
class fifo_stream {
 public:
  virtual ~fifo_stream() = default;
  // At most n > 0 bytes. count 0 without expired is end of file (FIFO-EOF-*).
  virtual progress read(void* buf, std::size_t n, deadline d) = 0;
  // At most n > 0 bytes: all n unless expired, or unless the reader left after some were written
  // (then count < n, and the next call throws broken_pipe). Nothing written and no reader:
  // broken_pipe, never a signal (FIFO-PIPE-1). At most pipe_buf() bytes: all or nothing.
  virtual progress write(const void* buf, std::size_t n, deadline d) = 0;
  virtual native_handle_t native_handle() const noexcept = 0;
  // Gives the descriptor/handle up without closing it; the stream is then closed.
  virtual native_handle_t release() noexcept = 0;
};

// The name an owner made (or adopted).
class fifo_name {
 public:
  virtual ~fifo_name() = default;
  // Opens the owner's end, waiting for a peer until `d` (FIFO-OPEN-*).
  virtual std::unique_ptr<fifo_stream> open(deadline d, io_mode mode) = 0;
  // Removes the name if it is still this owner's (FIFO-REMOVE-*); idempotent.
  virtual void remove() = 0;
  // Forgets the name without removing it (FIFO-LIFE-*).
  virtual void release() noexcept = 0;
};

std::unique_ptr<fifo_name> create_fifo(const std::string& path, direction dir,
                                       const fifo_options& opts);
std::unique_ptr<fifo_stream> open_fifo(const std::string& path, direction dir, deadline d,
                                       io_mode mode);
// Adopts an open end (fifo_end::from_native); the stream owns `h` from the call on, even when it
// throws (then `h` is closed).
std::unique_ptr<fifo_stream> adopt_fifo(native_handle_t h, direction dir, io_mode mode);
std::size_t pipe_buf() noexcept;

// ---- Channel profile (CHAN-*) ----------------------------------------------------------------

// One connection, seen as whole messages.
class message_stream {
 public:
  virtual ~message_stream() = default;
  // Sends one whole message of n bytes. count: the bytes put on the wire for it, framing
  // included. expired: the deadline passed first; then count > 0 means the message is cut and the
  // stream can carry no more. broken_pipe when the peer is gone, never a signal.
  virtual progress send(const std::uint8_t* data, std::size_t n, deadline d) = 0;

  enum class received { message, eof, expired };
  // One whole message of at most maxlength bytes into `out` (replaced). eof: the peer closed on a
  // message boundary. expired: what arrived is kept for the next call, of either form. Throws
  // message_too_long (the message not read nor allocated), protocol_error (EOF inside a message,
  // a bad header): after either, stream_lost() says whether anything more can be read.
  virtual received receive(std::size_t maxlength, deadline d, bytes& out) = 0;
  // The same into the caller's buffer of `capacity` bytes (which plays the part of maxlength).
  virtual received receive_into(std::uint8_t* buf, std::size_t capacity, deadline d,
                                std::size_t& length) = 0;
  // True when a receive can start without waiting past `d` (bytes, EOF, or an error are there).
  virtual bool wait_readable(deadline d) = 0;
  // True once the message stream cannot be parsed any further (CHAN-RECV-2).
  virtual bool stream_lost() const noexcept = 0;
  // True while part of a message received before a deadline is held in user space.
  virtual bool holds_partial_message() const noexcept = 0;
  virtual peer_credentials peer() const = 0;
  virtual native_handle_t native_handle() const noexcept = 0;
  virtual native_handle_t release() noexcept = 0;
};

// Connects (CHAN-CONNECT-*): the stream, or throws (not_found, timeout, would_block, ...).
std::unique_ptr<message_stream> connect(const std::string& path, deadline d);
// Adopts a connected endpoint (connection::from_native); owns `h` from the call on.
std::unique_ptr<message_stream> adopt_connection(native_handle_t h);

// A listening address (CHAN-LISTEN-*, CHAN-ACCEPT-*).
class listening_endpoint {
 public:
  // Stops listening; removes the address if it is still this endpoint's (CHAN-LISTEN-5).
  virtual ~listening_endpoint() = default;
  // One client, or nullptr when `d` passed first.
  virtual std::unique_ptr<message_stream> accept(deadline d) = 0;
  virtual native_handle_t native_handle() const noexcept = 0;
};

std::unique_ptr<listening_endpoint> listen(const std::string& path, const listener_options& opts);

}  // namespace npipe::backend
