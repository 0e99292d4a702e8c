// The Windows Channel backend's connection (backend::message_stream), byte-compatible with
// CPython's AF_PIPE PipeConnection (CPython Lib/multiprocessing/connection.py PipeClient,
// PipeConnection; spec CHAN-*):
//
//  - connect: WaitNamedPipe + CreateFile(read and write data, never GENERIC_WRITE: security.hpp;
//    SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION), retrying on ERROR_PIPE_BUSY until the
//    deadline, then SetNamedPipeHandleState(PIPE_READMODE_MESSAGE). No listener: not_found
//    (CHAN-CONNECT-1).
//  - messages: one WriteFile per message, no header (CHAN-FRAME-5); zero-length messages exist.
//    A receive first waits with a zero-byte ReadFile: it completes with ERROR_MORE_DATA when a
//    message is there without consuming any of it, or succeeds when the message is empty (spec
//    CHAN-FRAME-5; Microsoft's "Named Pipe Type, Read, and Wait Modes").
//    PeekNamedPipe then gives the message's length: longer than maxlength -> message_too_long with
//    nothing read or allocated, and the stream is lost for reading (CHAN-RECV-1, -2); otherwise
//    one ReadFile of exactly that length. ERROR_BROKEN_PIPE is EOF (always on a message boundary).
//  - receive_into: a receive, then a copy into the caller's buffer (not allocation-free here).
#include <windows.h>
// windows.h first: aclapi.h and sddl.h need its types.
#include <aclapi.h>
#include <sddl.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "common/backend.hpp"
#include "npipe/error.hpp"
#include "win32/errors.hpp"
#include "win32/pipe_channel.hpp"
#include "win32/pipe_io.hpp"
#include "win32/unique_handle.hpp"
#include "win32/wide.hpp"

namespace npipe::win32 {
namespace {

// "S-1-5-..." for a SID; "" when it cannot be converted.
std::string sid_string(PSID sid) {
  LPWSTR text = nullptr;
  if (!::ConvertSidToStringSidW(sid, &text)) return {};
  std::string out = to_utf8(text);
  ::LocalFree(text);
  return out;
}

// The user of the client connected to the server end `h`, from its token at identification
// level; "" when the system will not say (the client allowed no identification, or has written
// nothing yet where that is required).
std::string client_user_sid(HANDLE h) {
  if (!::ImpersonateNamedPipeClient(h)) return {};
  HANDLE raw = nullptr;
  const BOOL opened = ::OpenThreadToken(::GetCurrentThread(), TOKEN_QUERY, TRUE, &raw);
  ::RevertToSelf();
  if (!opened) return {};
  unique_handle token(raw);
  DWORD size = 0;
  ::GetTokenInformation(token.get(), TokenUser, nullptr, 0, &size);
  if (size == 0) return {};
  std::string buf(size, '\0');
  if (!::GetTokenInformation(token.get(), TokenUser, buf.data(), size, &size)) return {};
  return sid_string(reinterpret_cast<TOKEN_USER*>(buf.data())->User.Sid);
}

// The owner of the pipe object (the listener's user, who created it); "" when unknown.
std::string pipe_owner_sid(HANDLE h) {
  PSID owner = nullptr;
  PSECURITY_DESCRIPTOR sd = nullptr;
  if (::GetSecurityInfo(h, SE_KERNEL_OBJECT, OWNER_SECURITY_INFORMATION, &owner, nullptr, nullptr,
                        nullptr, &sd) != ERROR_SUCCESS) {
    return {};
  }
  std::string out = owner ? sid_string(owner) : std::string();
  ::LocalFree(sd);
  return out;
}

class pipe_stream final : public backend::message_stream {
 public:
  pipe_stream(unique_handle h, std::string path) : handle_(std::move(h)), path_(std::move(path)) {}

  backend::progress send(const std::uint8_t* data, std::size_t n, deadline d) override {
    const std::string what = "send on '" + path_ + "'";
    if (n > 0xffffffffu) {
      throw error(errc::message_too_long,
                  what + ": a Windows pipe message holds at most 4 GiB - 1 bytes");
    }
    static const std::uint8_t kNothing = 0;
    const io_result r =
        write_some(handle_.get(), write_ov_, n ? data : &kNothing, static_cast<DWORD>(n), d);
    if (r.timed_out) return {r.bytes, true};
    if (r.error == ERROR_NO_DATA || r.error == ERROR_BROKEN_PIPE ||
        r.error == ERROR_PIPE_NOT_CONNECTED) {
      throw_win32(errc::broken_pipe, r.error, what + ": the peer has gone");
    }
    if (r.error != ERROR_SUCCESS) throw_win32(r.error, what);
    if (r.bytes != n) {
      throw error(errc::io_error, what + ": WriteFile wrote " + std::to_string(r.bytes) + " of " +
                                      std::to_string(n) + " bytes of a message");
    }
    return {r.bytes, false};
  }

  received receive(std::size_t maxlength, deadline d, bytes& out) override {
    const std::string what = "recv on '" + path_ + "'";
    switch (wait_next(d, what)) {
      case next::none:
        return received::expired;
      case next::eof:
        return received::eof;
      case next::empty:
        empty_pending_ = false;
        out.clear();
        return received::message;
      case next::message:
        break;
    }
    DWORD avail = 0, left = 0;
    if (!::PeekNamedPipe(handle_.get(), nullptr, 0, nullptr, &avail, &left)) {
      throw_last_error(what + ": PeekNamedPipe");
    }
    if (left > maxlength) {
      lost_ = true;
      throw error(errc::message_too_long, what + ": the message is " + std::to_string(left) +
                                              " bytes long, more than the " +
                                              std::to_string(maxlength) + " allowed");
    }
    out.resize(left);  // not zeroed: ReadFile writes it
    std::size_t got = 0;
    for (;;) {
      // Normally one read takes the whole message; the loop covers a message that grew past
      // what PeekNamedPipe reported (it cannot, but the pipe is not trusted for it).
      const io_result r = read_some(handle_.get(), read_ov_, out.data() + got,
                                    static_cast<DWORD>(out.size() - got), deadline::forever());
      got += r.bytes;
      if (r.error == ERROR_SUCCESS) break;
      if (r.error != ERROR_MORE_DATA) {
        if (r.error == ERROR_BROKEN_PIPE || r.error == ERROR_PIPE_NOT_CONNECTED) {
          lost_ = true;
          throw_win32(errc::protocol_error, r.error, what + ": EOF inside a message");
        }
        throw_win32(r.error, what);
      }
      if (!::PeekNamedPipe(handle_.get(), nullptr, 0, nullptr, &avail, &left)) {
        throw_last_error(what + ": PeekNamedPipe");
      }
      if (got + left > maxlength) {
        lost_ = true;
        throw error(errc::message_too_long,
                    what + ": the message is longer than " + std::to_string(maxlength) + " bytes");
      }
      out.resize(got + left);
    }
    out.resize(got);
    return received::message;
  }

  received receive_into(std::uint8_t* buf, std::size_t capacity, deadline d,
                        std::size_t& length) override {
    bytes m;
    const received r = receive(capacity, d, m);
    if (r != received::message) return r;
    if (!m.empty()) std::memcpy(buf, m.data(), m.size());
    length = m.size();
    return r;
  }

  bool wait_readable(deadline d) override {
    return wait_next(d, "poll on '" + path_ + "'") != next::none;
  }

  bool stream_lost() const noexcept override { return lost_; }
  // A message is received whole or not at all; an empty one met by a poll is remembered, not
  // held as bytes.
  bool holds_partial_message() const noexcept override { return empty_pending_; }

  peer_credentials peer() const override {
    const std::string what = "peer of '" + path_ + "'";
    DWORD flags = 0;
    if (!::GetNamedPipeInfo(handle_.get(), &flags, nullptr, nullptr, nullptr)) {
      throw_last_error(what + ": GetNamedPipeInfo");
    }
    peer_credentials c;
    ULONG pid = 0;
    if (flags & PIPE_SERVER_END) {
      if (!::GetNamedPipeClientProcessId(handle_.get(), &pid)) {
        throw_last_error(what + ": GetNamedPipeClientProcessId");
      }
      c.user_sid = client_user_sid(handle_.get());
    } else {
      if (!::GetNamedPipeServerProcessId(handle_.get(), &pid)) {
        throw_last_error(what + ": GetNamedPipeServerProcessId");
      }
      c.user_sid = pipe_owner_sid(handle_.get());
    }
    c.pid = static_cast<long long>(pid);
    return c;
  }

  native_handle_t native_handle() const noexcept override { return handle_.get(); }
  native_handle_t release() noexcept override { return handle_.release(); }

 private:
  // What waiting for the next message found.
  enum class next { message, empty, eof, none };

  // Waits for the next message until `d` without consuming a non-empty one (see the top).
  next wait_next(deadline d, const std::string& what) {
    if (empty_pending_) return next::empty;
    if (eof_seen_) return next::eof;
    std::uint8_t dummy = 0;
    const io_result r = read_some(handle_.get(), read_ov_, &dummy, 0, d);
    if (r.timed_out) return next::none;
    if (r.error == ERROR_MORE_DATA) return next::message;
    if (r.error == ERROR_SUCCESS) {
      empty_pending_ = true;  // an empty message was consumed by the zero-byte read
      return next::empty;
    }
    if (r.error == ERROR_BROKEN_PIPE || r.error == ERROR_PIPE_NOT_CONNECTED) {
      eof_seen_ = true;
      return next::eof;
    }
    throw_win32(r.error, what);
  }

  unique_handle handle_;
  std::string path_;
  overlapped read_ov_;
  overlapped write_ov_;
  bool lost_ = false;
  bool empty_pending_ = false;  // a zero-byte read (poll) consumed an empty message
  bool eof_seen_ = false;
};

}  // namespace

std::unique_ptr<backend::message_stream> make_pipe_stream(unique_handle h, std::string path) {
  return std::make_unique<pipe_stream>(std::move(h), std::move(path));
}

}  // namespace npipe::win32

namespace npipe::backend {

std::unique_ptr<message_stream> connect(const std::string& path, deadline d) {
  const std::string what = "connect to '" + path + "'";
  win32::unique_handle h = win32::open_client(path, win32::client_access::duplex, d, what);
  win32::check_pipe_type(h.get(), true, what);
  DWORD mode = PIPE_READMODE_MESSAGE;
  if (!::SetNamedPipeHandleState(h.get(), &mode, nullptr, nullptr)) {
    win32::throw_last_error(what + ": SetNamedPipeHandleState(PIPE_READMODE_MESSAGE)");
  }
  return win32::make_pipe_stream(std::move(h), path);
}

std::unique_ptr<message_stream> adopt_connection(native_handle_t h) {
  win32::unique_handle owned(h);  // ours from here on, closed on any failure below
  const std::string what = "adopt a channel pipe";
  if (!owned) throw error(errc::io_error, what + ": not a handle");
  win32::check_pipe_type(owned.get(), true, what);
  DWORD mode = PIPE_READMODE_MESSAGE;
  if (!::SetNamedPipeHandleState(owned.get(), &mode, nullptr, nullptr)) {
    win32::throw_last_error(what + ": SetNamedPipeHandleState(PIPE_READMODE_MESSAGE)");
  }
  return win32::make_pipe_stream(std::move(owned), "(adopted)");
}

}  // namespace npipe::backend
