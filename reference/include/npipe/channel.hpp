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
//
// Every call that can fail has a throwing form and a noexcept form with a trailing
// std::error_code& (npipe/error.hpp). Objects are not thread-safe: one object is used by one
// thread at a time; close() from another thread while a call is under way is a data race, not a
// way to cancel it (every blocking call takes a deadline instead).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
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
  // How many clients may connect before accept() takes them. POSIX: listen(2)'s backlog (the
  // system caps it: Linux at net.core.somaxconn). Windows: that many server instances wait at
  // once, each with a ConnectNamedPipe pending, capped at 64 (WaitForMultipleObjects' limit).
  int backlog = 128;
  // Permission bits of the socket file, applied before any client can connect (CHAN-LISTEN-1).
  unsigned mode = 0600;
};

// Who is at the other end of a connection, as the operating system says (not as the peer
// claims). Fields the platform cannot tell stay at -1 / empty.
struct peer_credentials {
  // POSIX: Linux SO_PEERCRED's pid (the peer's process when it connected or listened); macOS
  // LOCAL_PEERPID; -1 on the BSDs. Windows: GetNamedPipeClientProcessId (on an accepted
  // connection) or GetNamedPipeServerProcessId (on a connected one).
  long long pid = -1;
  // POSIX: the peer's effective uid and gid (SO_PEERCRED, or getpeereid(3) on the BSDs and
  // macOS), as they were when it connected or listened.
  long long uid = -1;
  long long gid = -1;
  // Windows: the peer user's SID ("S-1-5-..."): on an accepted connection the client's token
  // (ImpersonateNamedPipeClient, at identification level as npipe's clients allow, then
  // RevertToSelf); on a connected one the owner of the pipe object, i.e. the listener's user.
  std::string user_sid;
};

class connection {
 public:
  // Connects to a listener and runs the handshake when opts.authkey is set. not_found when no
  // listener is there; auth_failed on a wrong key; timeout / would_block when `d` passes first.
  // POSIX: socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC) and connect(2), limited by SO_SNDTIMEO
  // while the listener's backlog is full. Windows: CreateFile (read and write data, never
  // GENERIC_WRITE; SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION), WaitNamedPipe while every
  // instance is busy, then SetNamedPipeHandleState(PIPE_READMODE_MESSAGE).
  static connection connect(std::string_view address, const auth_options& opts = {},
                            deadline d = deadline::forever());
  // Returns a closed connection on failure.
  static connection connect(std::string_view address, const auth_options& opts, deadline d,
                            std::error_code& ec) noexcept;

  // Adopts a connected endpoint the caller owns, with no handshake (one was run before, or none
  // is wanted), as libuv's uv_pipe_open and Rust's From<OwnedFd> do; the connection then owns it
  // (and closes it) whatever happens. POSIX: an AF_UNIX stream socket (fstat S_ISSOCK and
  // getsockopt SO_TYPE, else not_a_pipe), put in blocking mode. Windows: a message-mode pipe
  // handle opened for overlapped I/O, put in PIPE_READMODE_MESSAGE.
  static connection from_native(native_handle_t h);
  static connection from_native(native_handle_t h, std::error_code& ec) noexcept;

  connection() noexcept;
  connection(connection&&) noexcept;
  connection& operator=(connection&&) noexcept;
  ~connection();

  bool is_open() const noexcept;
  // False after a recv_bytes refused a message as too long (CHAN-RECV-2), or after close().
  bool readable() const noexcept;
  // False after a send was cut by its deadline in the middle of a message (the peer would read
  // the rest of the stream as garbage), or after close().
  bool writable() const noexcept;

  // The socket (POSIX) or pipe HANDLE (Windows), still owned by the connection. What it may be
  // used for: POSIX: wait for it to become readable with poll/epoll/kqueue, then call
  // recv_bytes or recv_bytes_into with deadline::immediate(). The reader never reads past the
  // message it is receiving, so no whole message ever waits in user space while the socket looks
  // idle; but a readable socket may hold only part of the next message, and the immediate
  // receive then gives would_block, keeps what arrived, and the loop waits again. Never read or
  // write the descriptor directly. Windows: the handle is not a readiness signal; use poll().
  native_handle_t native_handle() const noexcept;
  // Gives the socket or handle to the caller without closing it; the connection is then closed.
  // io_error, and nothing is given up, while part of a message received before a deadline is held
  // here (it would be lost) or a handshake is still owed.
  native_handle_t release();
  native_handle_t release(std::error_code& ec) noexcept;

  // Who the peer is, as the system says (see peer_credentials).
  peer_credentials peer() const;
  peer_credentials peer(std::error_code& ec) const noexcept;

  // Sends one message of n bytes (0 allowed), waiting as long as it takes. broken_pipe when the
  // peer is gone, never a signal. POSIX: one sendmsg(2) of header and payload (MSG_NOSIGNAL; on
  // macOS the socket's SO_NOSIGPIPE), repeated for what it did not take. Windows: one WriteFile.
  void send_bytes(const void* data, std::size_t n);
  void send_bytes(std::string_view data) { send_bytes(data.data(), data.size()); }
  // The same, giving up at `d`: timeout / would_block. Then either nothing of the message was
  // sent and the connection is as it was, or part of it was and writable() is now false (the
  // message cannot be finished, and nothing sent after it could be parsed by the peer).
  void send_bytes(const void* data, std::size_t n, deadline d);
  void send_bytes(const void* data, std::size_t n, deadline d, std::error_code& ec) noexcept;

  // Receives one message. std::nullopt at EOF on a message boundary; protocol_error at EOF inside
  // a message. A message longer than maxlength gives message_too_long without reading or
  // allocating it, and the connection then becomes write-only (CHAN-RECV-*). timeout /
  // would_block when `d` passes first: what arrived of the message is kept, and the next receive
  // (either form) goes on with it. POSIX: recv(2) of the header, then of the payload into the
  // returned buffer, which grows as bytes arrive (CHAN-RECV-5). Windows: a zero-byte overlapped
  // ReadFile waits for a message, PeekNamedPipe gives its length, one ReadFile takes it.
  std::optional<bytes> recv_bytes(std::size_t maxlength = SIZE_MAX,
                                  deadline d = deadline::forever());
  // std::nullopt with ec clear at EOF, with ec set on failure.
  std::optional<bytes> recv_bytes(std::size_t maxlength, deadline d, std::error_code& ec) noexcept;

  // Receives one message into the caller's buffer of `capacity` bytes and returns its length;
  // std::nullopt at EOF on a message boundary. Nothing is allocated (POSIX; Windows receives and
  // copies): for receiving many messages into one reused buffer. A message longer than
  // `capacity` is refused exactly as recv_bytes refuses one longer than maxlength
  // (message_too_long, then write-only). What the buffer holds beyond the returned length, or
  // after an error, is unspecified.
  std::optional<std::size_t> recv_bytes_into(void* buf, std::size_t capacity,
                                             deadline d = deadline::forever());
  std::optional<std::size_t> recv_bytes_into(void* buf, std::size_t capacity, deadline d,
                                             std::error_code& ec) noexcept;

  // True when the next receive can start without waiting past `d`: bytes of a message, or EOF,
  // are there (as CPython's poll; not necessarily a whole message on POSIX). POSIX: poll(2);
  // Windows: a zero-byte overlapped ReadFile (an empty message it meets is kept for the next
  // receive).
  bool poll(deadline d = deadline::immediate());
  bool poll(deadline d, std::error_code& ec) noexcept;

  // Runs the listener's half of the handshake that a connection from
  // listener::accept_unauthenticated() still owes, by `d` cut short by the listener's
  // handshake_timeout. Does nothing when no handshake is owed. Until it has succeeded, send, recv
  // and poll fail with io_error; when it fails (auth_failed, timeout) the connection is closed.
  void authenticate(deadline d = deadline::forever());
  void authenticate(deadline d, std::error_code& ec) noexcept;

  void close() noexcept;

  struct impl;
  explicit connection(std::unique_ptr<impl> p) noexcept;

 private:
  std::unique_ptr<impl> impl_;
};

class listener {
 public:
  // Starts listening. already_exists when a live listener or any non-socket file holds the
  // address; a stale socket file (connect refused) is replaced (CHAN-LISTEN-*). POSIX: bind(2),
  // the exact mode set before listen(2) (fchmodat), liveness of an existing socket file asked of
  // the kernel (Linux sock_diag) or probed with a non-blocking connect(2). The unlink of a stale
  // file and the new bind are two steps: two listeners replacing one stale file at once may both
  // bind, and the first then loses its file to the second (CHAN-LISTEN-6). Windows:
  // CreateNamedPipe with FILE_FLAG_FIRST_PIPE_INSTANCE, then backlog - 1 more instances.
  static listener listen(std::string_view address, const listener_options& opts = {});
  // Returns a closed listener on failure.
  static listener listen(std::string_view address, const listener_options& opts,
                         std::error_code& ec) noexcept;

  listener() noexcept;
  listener(listener&&) noexcept;
  listener& operator=(listener&&) noexcept;
  ~listener();

  const std::string& address() const noexcept;
  // POSIX: the listening socket (non-blocking): readable when a client waits; then call accept
  // with deadline::immediate() (would_block if another thread took the client, or it left).
  // Windows: one of the waiting instances, for GetSecurityInfo and the like; it changes with
  // every accept, and is not a readiness signal.
  native_handle_t native_handle() const noexcept;

  // Accepts one client and runs the handshake (challenge first, then answer, as Python does).
  // A client that fails the handshake gives auth_failed; the listener stays usable.
  // POSIX: accept4(SOCK_CLOEXEC) where it exists (accept + fcntl elsewhere), poll(2) to wait.
  // Windows: waits for whichever instance a client connected to, and makes a new instance in its
  // place before returning (CHAN-LISTEN-7).
  connection accept(deadline d = deadline::forever());
  connection accept(deadline d, std::error_code& ec) noexcept;

  // Accepts one client and leaves the handshake to connection::authenticate(), so that a server
  // can run each client's handshake on its own thread: a client that never speaks then delays
  // only itself, not the clients behind it (CHAN-AUTH-13). Without an authkey it is accept().
  connection accept_unauthenticated(deadline d = deadline::forever());
  connection accept_unauthenticated(deadline d, std::error_code& ec) noexcept;

  // Stops listening and removes the socket file if it is still this listener's (CHAN-LISTEN-5).
  // Idempotent. POSIX: lstat, unlink if it is still the same socket, then close(2): unlinked
  // while the socket still listens, so a listener starting meanwhile never finds the file stale
  // (as libuv). The lstat-then-unlink pair is not atomic: a process that may write the directory
  // and renames another socket file into the path in between loses it. Windows: closes the
  // waiting instances; accepted connections keep the name alive until they close.
  void close() noexcept;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace npipe
