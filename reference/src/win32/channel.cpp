// The Channel profile on Windows (include/npipe/channel.hpp), byte-compatible with CPython's
// AF_PIPE Listener/Client (behaviours Y4, Y5; spec CHAN-*):
//
//  - listen: CreateNamedPipe(PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED, plus
//    FILE_FLAG_FIRST_PIPE_INSTANCE on the first instance only; PIPE_TYPE_MESSAGE |
//    PIPE_READMODE_MESSAGE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS, PIPE_UNLIMITED_INSTANCES,
//    65536, 65536) with the DACL of win32/security.hpp. A name held by anything live gives
//    already_exists (CHAN-LISTEN-2). listener_options::backlog instances (at most 64) wait at
//    once, each with an overlapped ConnectNamedPipe pending (win32/listener_pool.hpp), so that
//    many clients connect before any accept, as POSIX's listen(2) backlog lets them.
//  - accept: waits until the deadline for whichever instance a client connected to; on timeout
//    nothing is cancelled (the instances keep waiting). ERROR_PIPE_CONNECTED and ERROR_NO_DATA
//    are a success, as in CPython. The connected instance becomes the connection and a new one
//    is made at once, so one is always listening. A client that connected and left before accept
//    (CHAN-CONNECT-2): without an authkey accept() returns its connection (what it sent is
//    delivered, then EOF), with one the handshake fails (auth_failed); the next accept() serves the
//    next client either way. Accepted connections are server instances: the name lives until the
//    listener AND every accepted connection are closed.
//  - connect: WaitNamedPipe + CreateFile(read and write data, never GENERIC_WRITE: security.hpp;
//    SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION), retrying on ERROR_PIPE_BUSY until the
//    deadline, then SetNamedPipeHandleState(PIPE_READMODE_MESSAGE). No listener: not_found
//    (CHAN-CONNECT-1).
//  - messages: one WriteFile per message, no header (CHAN-FRAME-5); zero-length messages exist.
//    A receive first waits with a zero-byte ReadFile: it completes with ERROR_MORE_DATA when a
//    message is there without consuming any of it, or succeeds when the message is empty (W7).
//    PeekNamedPipe then gives the message's length: longer than maxlength -> message_too_long with
//    nothing read or allocated, and the connection becomes write-only (CHAN-RECV-1, -2); otherwise
//    one ReadFile of exactly that length. ERROR_BROKEN_PIPE is EOF (always on a message boundary).
//  - the handshake is src/common/handshake.*, with each handshake message one pipe message.
//  - recv_bytes/poll on a closed connection, recv_bytes on a write-only one: io_error, as on POSIX.
#include <algorithm>
#include <string>
#include <utility>

#include "common/handshake.hpp"
#include "npipe/channel.hpp"
#include "npipe/error.hpp"
#include "npipe/name.hpp"
#include "win32/errors.hpp"
#include "win32/listener_pool.hpp"
#include "win32/pipe_io.hpp"
#include "win32/security.hpp"
#include "win32/unique_handle.hpp"
#include "win32/wide.hpp"

namespace npipe {
namespace {

// As CPython 3.14's Listener (65536; 8192 before): advisory sizes of each direction's buffer.
constexpr DWORD kBufferSize = 65536;

win32::unique_handle create_channel_instance(const std::string& path, unsigned mode, bool first) {
  auto wide = win32::to_wide(path);
  if (!wide) throw error(errc::invalid_name, "listen '" + path + "': the name is not valid UTF-8");
  win32::pipe_security security(mode);
  DWORD open_mode = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED;
  if (first) open_mode |= FILE_FLAG_FIRST_PIPE_INSTANCE;
  const DWORD pipe_mode =
      PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS;
  HANDLE h = ::CreateNamedPipeW(wide->c_str(), open_mode, pipe_mode, PIPE_UNLIMITED_INSTANCES,
                                kBufferSize, kBufferSize, 0, security.attributes());
  if (h == INVALID_HANDLE_VALUE) {
    DWORD err = ::GetLastError();
    const std::string what = "listen on '" + path + "'";
    // FILE_FLAG_FIRST_PIPE_INSTANCE on a live name: ERROR_ACCESS_DENIED (W8); a live name whose
    // instances are all taken (a FIFO): ERROR_PIPE_BUSY.
    if (first && (err == ERROR_ACCESS_DENIED || err == ERROR_PIPE_BUSY)) {
      win32::throw_win32(errc::already_exists, err, what + ": the name is held by a live pipe");
    }
    win32::throw_win32(err, what + (first ? "" : ": a new instance"));
  }
  return win32::unique_handle(h);
}

[[noreturn]] void throw_closed(const char* op) {
  throw error(errc::io_error, std::string(op) + " on a closed connection", ERROR_INVALID_HANDLE,
              "ERROR_INVALID_HANDLE");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// connection

struct connection::impl final : handshake::message_transport {
  impl(win32::unique_handle h, std::string p) : handle(std::move(h)), path(std::move(p)) {}

  void send_message(const std::uint8_t* data, std::size_t n) override {
    const std::string what = "send on '" + path + "'";
    if (n > 0xffffffffu) {
      throw error(errc::message_too_long,
                  what + ": a Windows pipe message holds at most 4 GiB - 1 bytes");
    }
    static const std::uint8_t kNothing = 0;
    win32::io_result r = win32::write_some(handle.get(), write_ov, n ? data : &kNothing,
                                           static_cast<DWORD>(n), deadline::forever());
    if (r.error == ERROR_NO_DATA || r.error == ERROR_BROKEN_PIPE ||
        r.error == ERROR_PIPE_NOT_CONNECTED) {
      win32::throw_win32(errc::broken_pipe, r.error, what + ": the peer has gone");
    }
    if (r.error != ERROR_SUCCESS) win32::throw_win32(r.error, what);
    if (r.bytes != n) {
      throw error(errc::io_error, what + ": WriteFile wrote " + std::to_string(r.bytes) + " of " +
                                      std::to_string(n) + " bytes of a message");
    }
  }

  // What waiting for the next message found.
  enum class next { message, empty, eof, none };

  // Waits for the next message until `d` without consuming a non-empty one (see the top).
  next wait_next(deadline d, const std::string& what) {
    if (empty_pending) return next::empty;
    if (eof_seen) return next::eof;
    std::uint8_t dummy = 0;
    win32::io_result r = win32::read_some(handle.get(), read_ov, &dummy, 0, d);
    if (r.timed_out) return next::none;
    if (r.error == ERROR_MORE_DATA) return next::message;
    if (r.error == ERROR_SUCCESS) {
      empty_pending = true;  // an empty message was consumed by the zero-byte read
      return next::empty;
    }
    if (r.error == ERROR_BROKEN_PIPE || r.error == ERROR_PIPE_NOT_CONNECTED) {
      eof_seen = true;
      return next::eof;
    }
    win32::throw_win32(r.error, what);
  }

  std::optional<std::vector<std::uint8_t>> receive_message(std::size_t maxlength,
                                                           deadline d) override {
    std::optional<bytes> m = receive(maxlength, d);
    if (!m) return std::nullopt;
    return std::vector<std::uint8_t>(m->begin(), m->end());  // a handshake message: <= 256 bytes
  }

  std::optional<bytes> receive(std::size_t maxlength, deadline d) {
    const std::string what = "recv on '" + path + "'";
    switch (wait_next(d, what)) {
      case next::none:
        throw error(d.is_immediate() ? errc::would_block : errc::timeout,
                    what + ": no message before the deadline");
      case next::eof:
        return std::nullopt;
      case next::empty:
        empty_pending = false;
        return bytes();
      case next::message:
        break;
    }
    DWORD avail = 0, left = 0;
    if (!::PeekNamedPipe(handle.get(), nullptr, 0, nullptr, &avail, &left)) {
      win32::throw_last_error(what + ": PeekNamedPipe");
    }
    if (left > maxlength) {
      readable = false;
      throw error(errc::message_too_long, what + ": the message is " + std::to_string(left) +
                                              " bytes long, more than the " +
                                              std::to_string(maxlength) + " allowed");
    }
    bytes out(left);  // not zeroed: ReadFile writes it
    std::size_t got = 0;
    for (;;) {
      // Normally one read takes the whole message; the loop covers a message that grew past
      // what PeekNamedPipe reported (it cannot, but the pipe is not trusted for it).
      win32::io_result r =
          win32::read_some(handle.get(), read_ov, out.data() + got,
                           static_cast<DWORD>(out.size() - got), deadline::forever());
      got += r.bytes;
      if (r.error == ERROR_SUCCESS) break;
      if (r.error != ERROR_MORE_DATA) {
        if (r.error == ERROR_BROKEN_PIPE || r.error == ERROR_PIPE_NOT_CONNECTED) {
          readable = false;
          win32::throw_win32(errc::protocol_error, r.error, what + ": EOF inside a message");
        }
        win32::throw_win32(r.error, what);
      }
      if (!::PeekNamedPipe(handle.get(), nullptr, 0, nullptr, &avail, &left)) {
        win32::throw_last_error(what + ": PeekNamedPipe");
      }
      if (got + left > maxlength) {
        readable = false;
        throw error(errc::message_too_long,
                    what + ": the message is longer than " + std::to_string(maxlength) + " bytes");
      }
      out.resize(got + left);
    }
    out.resize(got);
    return out;
  }

  win32::unique_handle handle;
  std::string path;
  win32::overlapped read_ov;
  win32::overlapped write_ov;
  bool readable = true;
  bool writable = true;
  bool empty_pending = false;  // a zero-byte read (poll) consumed an empty message
  bool eof_seen = false;
  std::optional<handshake::owed_listener_handshake> owed;  // until authenticate() (CHAN-AUTH-13)
};

connection::connection() noexcept = default;
connection::connection(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}
connection::connection(connection&&) noexcept = default;
connection& connection::operator=(connection&&) noexcept = default;
connection::~connection() = default;

connection connection::connect(std::string_view address, const auth_options& opts, deadline d) {
  std::string path = platform_name(address, name_kind::channel);
  const std::string what = "connect to '" + path + "'";
  win32::unique_handle h = win32::open_client(path, win32::client_access::duplex, d, what);
  DWORD flags = 0;
  if (!::GetNamedPipeInfo(h.get(), &flags, nullptr, nullptr, nullptr)) {
    win32::throw_last_error(what + ": GetNamedPipeInfo");
  }
  if (!(flags & PIPE_TYPE_MESSAGE)) {
    throw error(errc::not_a_pipe, what + ": a byte-mode pipe (a FIFO), not a channel");
  }
  DWORD mode = PIPE_READMODE_MESSAGE;
  if (!::SetNamedPipeHandleState(h.get(), &mode, nullptr, nullptr)) {
    win32::throw_last_error(what + ": SetNamedPipeHandleState(PIPE_READMODE_MESSAGE)");
  }
  auto p = std::make_unique<impl>(std::move(h), std::move(path));
  if (opts.authkey) {
    // The client answers first, then challenges (CHAN-AUTH-1).
    const deadline hd = handshake::handshake_deadline(opts.handshake_timeout, d);
    handshake::client_handshake(*p, *opts.authkey, opts.challenge, hd);
  }
  return connection(std::move(p));
}

bool connection::is_open() const noexcept {
  return impl_ && impl_->handle.valid();
}
bool connection::readable() const noexcept {
  return is_open() && impl_->readable;
}
bool connection::writable() const noexcept {
  return is_open() && impl_->writable;
}
native_handle_t connection::native_handle() const noexcept {
  return is_open() ? impl_->handle.get() : INVALID_HANDLE_VALUE;
}

void connection::send_bytes(const void* data, std::size_t n) {
  if (!is_open()) throw_closed("send_bytes");
  handshake::check_nothing_owed(impl_->owed, "send_bytes");
  if (!impl_->writable) throw error(errc::io_error, "send_bytes on a read-only connection");
  impl_->send_message(static_cast<const std::uint8_t*>(data), n);
}

std::optional<bytes> connection::recv_bytes(std::size_t maxlength, deadline d) {
  if (!is_open()) throw_closed("recv_bytes");
  handshake::check_nothing_owed(impl_->owed, "recv_bytes");
  if (!impl_->readable) {
    throw error(errc::io_error,
                "recv_bytes on a write-only connection: an earlier message was refused as too "
                "long or could not be parsed, so the stream cannot be read any further");
  }
  return impl_->receive(maxlength, d);
}

bool connection::poll(deadline d) {
  if (!is_open()) throw_closed("poll");
  handshake::check_nothing_owed(impl_->owed, "poll");
  if (!impl_->readable) throw error(errc::io_error, "poll on a write-only connection");
  return impl_->wait_next(d, "poll on '" + impl_->path + "'") != impl::next::none;
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
  impl_->handle.reset();
  impl_->readable = false;
  impl_->writable = false;
}

// ---------------------------------------------------------------------------------------------
// listener

struct listener::impl {
  std::string path;
  listener_options opts;
  std::unique_ptr<win32::listener_pool> pool;  // the waiting instances; null once closed
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
  auto p = std::make_unique<impl>();
  p->path = platform_name(address, name_kind::channel);
  p->opts = opts;
  p->pool = std::make_unique<win32::listener_pool>(
      [path = p->path, mode = opts.mode](bool first) {
        return create_channel_instance(path, mode, first);
      },
      opts.backlog);
  l.impl_ = std::move(p);
  return l;
}

const std::string& listener::address() const noexcept {
  static const std::string none;
  return impl_ ? impl_->path : none;
}

native_handle_t listener::native_handle() const noexcept {
  return impl_ && impl_->pool ? impl_->pool->any_instance() : INVALID_HANDLE_VALUE;
}

connection listener::accept(deadline d) {
  connection c = accept_unauthenticated(d);
  c.authenticate(d);
  return c;
}

connection listener::accept_unauthenticated(deadline d) {
  if (!impl_ || !impl_->pool) {
    throw error(errc::io_error, "accept on a closed listener", ERROR_INVALID_HANDLE,
                "ERROR_INVALID_HANDLE");
  }
  const std::string what = "accept on '" + impl_->path + "'";
  win32::unique_handle taken;
  if (impl_->pool->accept(d, taken, what) == win32::listener_pool::outcome::timed_out) {
    throw error(d.is_immediate() ? errc::would_block : errc::timeout,
                what + (d.is_immediate() ? ": no client is waiting" : ": no client came in time"));
  }
  auto p = std::make_unique<connection::impl>(std::move(taken), impl_->path);
  if (impl_->opts.authkey) {
    p->owed = handshake::owed_listener_handshake{*impl_->opts.authkey, impl_->opts.challenge,
                                                 impl_->opts.handshake_timeout};
  }
  return connection(std::move(p));
}

void listener::close() noexcept {
  if (impl_) impl_->pool.reset();
}

}  // namespace npipe
