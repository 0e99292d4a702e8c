// Overlapped pipe I/O with deadlines: see pipe_io.hpp.
#include "win32/pipe_io.hpp"

#include <algorithm>

#include "win32/errors.hpp"
#include "win32/wide.hpp"

namespace npipe::win32 {
DWORD wait_ms(const deadline& d) noexcept {
  if (d.is_forever()) return INFINITE;
  return static_cast<DWORD>(d.remaining_ms());
}

overlapped::overlapped() : event_(::CreateEventW(nullptr, TRUE, FALSE, nullptr)) {
  if (!event_) throw_last_error("CreateEvent");
}

OVERLAPPED* overlapped::start() noexcept {
  ov_ = OVERLAPPED{};
  ::ResetEvent(event_.get());
  ov_.hEvent = event_.get();
  return &ov_;
}

io_result finish_io(HANDLE h, OVERLAPPED* ov, BOOL started_ok, DWORD start_error, deadline d) {
  io_result r;
  if (!started_ok && start_error != ERROR_IO_PENDING) {
    // Failed at once: nothing is pending. A short message read (ERROR_MORE_DATA) still
    // transferred bytes: the count is in the OVERLAPPED.
    r.error = start_error;
    if (start_error == ERROR_MORE_DATA) r.bytes = static_cast<DWORD>(ov->InternalHigh);
    return r;
  }
  for (;;) {
    DWORD w = ::WaitForSingleObject(ov->hEvent, wait_ms(d));
    if (w == WAIT_OBJECT_0) break;
    if (w == WAIT_TIMEOUT && !d.is_forever() && !d.expired() && !d.is_immediate()) continue;
    if (w != WAIT_TIMEOUT) {
      DWORD e = ::GetLastError();
      ::CancelIoEx(h, ov);
      DWORD n = 0;
      ::GetOverlappedResult(h, ov, &n, TRUE);
      r.error = e;
      r.bytes = n;
      return r;
    }
    // The deadline passed: cancel, then wait for the operation to end one way or the other.
    ::CancelIoEx(h, ov);
    DWORD n = 0;
    if (::GetOverlappedResult(h, ov, &n, TRUE)) {
      r.bytes = n;  // completed while being cancelled: a success
      return r;
    }
    DWORD e = ::GetLastError();
    r.bytes = n;
    if (e == ERROR_OPERATION_ABORTED) {
      r.timed_out = true;
    } else {
      r.error = e;
    }
    return r;
  }
  DWORD n = 0;
  if (!::GetOverlappedResult(h, ov, &n, FALSE)) r.error = ::GetLastError();
  r.bytes = n;
  return r;
}

io_result read_some(HANDLE h, overlapped& ov, void* buf, DWORD n, deadline d) {
  OVERLAPPED* o = ov.start();
  BOOL ok = ::ReadFile(h, buf, n, nullptr, o);
  DWORD err = ok ? ERROR_SUCCESS : ::GetLastError();
  return finish_io(h, o, ok, err, d);
}

io_result write_some(HANDLE h, overlapped& ov, const void* buf, DWORD n, deadline d) {
  OVERLAPPED* o = ov.start();
  BOOL ok = ::WriteFile(h, buf, n, nullptr, o);
  DWORD err = ok ? ERROR_SUCCESS : ::GetLastError();
  return finish_io(h, o, ok, err, d);
}

connect_outcome connect_instance(HANDLE instance, overlapped& ov, deadline d,
                                 const std::string& what) {
  OVERLAPPED* o = ov.start();
  BOOL ok = ::ConnectNamedPipe(instance, o);
  DWORD err = ok ? ERROR_SUCCESS : ::GetLastError();
  if (!ok) {
    if (err == ERROR_PIPE_CONNECTED) return connect_outcome::connected;
    if (err == ERROR_NO_DATA) return connect_outcome::client_left;
    if (err != ERROR_IO_PENDING) throw_win32(err, what + ": ConnectNamedPipe");
  }
  io_result r = finish_io(instance, o, ok, err, d);
  if (r.timed_out) return connect_outcome::timed_out;
  if (r.error == ERROR_SUCCESS || r.error == ERROR_PIPE_CONNECTED)
    return connect_outcome::connected;
  if (r.error == ERROR_NO_DATA) return connect_outcome::client_left;
  throw_win32(r.error, what + ": ConnectNamedPipe");
}

DWORD access_rights(client_access a) noexcept {
  // Reading: GENERIC_READ, which holds no FILE_APPEND_DATA; Wine 8 checks a pipe's direction
  // against the generic bit (a reader of an inbound pipe is refused only when it asks for
  // GENERIC_READ: Win32Fifo.WrongDirectionIsPermissionDenied).
  constexpr DWORD kWrite =
      FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES | FILE_READ_ATTRIBUTES | SYNCHRONIZE;
  switch (a) {
    case client_access::read:
      return GENERIC_READ;
    case client_access::write:
      return kWrite;
    case client_access::duplex:
      break;
  }
  return GENERIC_READ | kWrite;
}

unique_handle open_client(const std::string& name, client_access access, deadline d,
                          const std::string& what) {
  auto wide = to_wide(name);
  if (!wide) throw npipe::error(errc::invalid_name, what + ": the name is not valid UTF-8");
  for (;;) {
    HANDLE h = ::CreateFileW(wide->c_str(), access_rights(access), 0, nullptr, OPEN_EXISTING,
                             FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION,
                             nullptr);
    if (h != INVALID_HANDLE_VALUE) return unique_handle(h);
    DWORD err = ::GetLastError();
    if (err != ERROR_PIPE_BUSY) {
      // ERROR_ACCESS_DENIED here is the DACL or the pipe's direction (an inbound pipe opened
      // for reading): permission_denied either way.
      throw_win32(err, what + ": CreateFile");
    }
    if (d.is_immediate()) throw_win32(errc::would_block, err, what + ": every instance is busy");
    if (d.expired()) throw_win32(errc::timeout, err, what + ": every instance is busy");
    // WaitNamedPipe returns when an instance is free (or at once with ERROR_FILE_NOT_FOUND when
    // the name is gone). It is called in slices of at most one second, as CPython's Client does,
    // so a name that vanishes and comes back is seen, and the deadline is kept.
    DWORD slice = d.is_forever() ? 1000 : std::min<DWORD>(1000, std::max(1, d.remaining_ms()));
    if (!::WaitNamedPipeW(wide->c_str(), slice)) {
      DWORD werr = ::GetLastError();
      if (werr == ERROR_FILE_NOT_FOUND) throw_win32(werr, what + ": WaitNamedPipe");
      if (werr != ERROR_SEM_TIMEOUT && werr != ERROR_PIPE_BUSY) {
        throw_win32(werr, what + ": WaitNamedPipe");
      }
    }
  }
}

void check_pipe_type(HANDLE h, bool message_mode, const std::string& what) {
  if (::GetFileType(h) != FILE_TYPE_PIPE) {
    throw npipe::error(errc::not_a_pipe, what + ": the handle is not a pipe");
  }
  DWORD flags = 0;
  if (!::GetNamedPipeInfo(h, &flags, nullptr, nullptr, nullptr)) {
    throw_last_error(what + ": GetNamedPipeInfo");
  }
  const bool is_message = (flags & PIPE_TYPE_MESSAGE) != 0;
  if (is_message != message_mode) {
    throw npipe::error(errc::not_a_pipe,
                       what + (is_message ? ": a message-mode pipe (a channel), not a FIFO"
                                          : ": a byte-mode pipe (a FIFO), not a channel"));
  }
}

}  // namespace npipe::win32
