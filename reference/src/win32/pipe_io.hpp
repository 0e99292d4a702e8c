// The Win32 pipe operations both profiles share, each honouring an npipe::deadline (spec
// FIFO-OPEN-3, CHAN-CONNECT-4; ConnectNamedPipe and WaitNamedPipe pages): overlapped I/O waited for
// until the deadline then cancelled with CancelIoEx (and the cancel waited for, so no OVERLAPPED
// outlives its call); the server's overlapped ConnectNamedPipe; the client's WaitNamedPipe +
// CreateFile loop.
#pragma once

#include <windows.h>

#include <string>

#include "npipe/deadline.hpp"
#include "win32/unique_handle.hpp"

namespace npipe::win32 {

// One OVERLAPPED with its own manual-reset event, for one operation at a time.
class overlapped {
 public:
  overlapped();  // throws npipe::error when no event can be made
  overlapped(const overlapped&) = delete;
  overlapped& operator=(const overlapped&) = delete;

  // Clears the OVERLAPPED and the event for a new operation; returns it.
  OVERLAPPED* start() noexcept;
  // The OVERLAPPED of the operation started last, and its event.
  OVERLAPPED* get() noexcept { return &ov_; }
  HANDLE event() const noexcept { return event_.get(); }

 private:
  OVERLAPPED ov_{};
  unique_handle event_;
};

// What a Win32 wait takes for `d`: INFINITE for forever, else the time left in ms.
DWORD wait_ms(const deadline& d) noexcept;

struct io_result {
  DWORD error = ERROR_SUCCESS;  // ERROR_SUCCESS, or the operation's error
  DWORD bytes = 0;              // bytes transferred, also when cancelled part-way
  bool timed_out = false;       // the deadline passed and the operation was cancelled
};

// Finishes an operation that was started on `h` with `ov`: `started_ok` and `start_error` are the
// call's return value and GetLastError(). Waits until the deadline; then cancels and waits for the
// cancel. An operation that completed while being cancelled counts as completed.
io_result finish_io(HANDLE h, OVERLAPPED* ov, BOOL started_ok, DWORD start_error, deadline d);

// ReadFile / WriteFile of at most 0xffffffff bytes, overlapped, with a deadline.
io_result read_some(HANDLE h, overlapped& ov, void* buf, DWORD n, deadline d);
io_result write_some(HANDLE h, overlapped& ov, const void* buf, DWORD n, deadline d);

enum class connect_outcome {
  connected,    // a client is connected (also: ERROR_PIPE_CONNECTED, it came before the call)
  client_left,  // ERROR_NO_DATA: a client connected and closed before the call (ConnectNamedPipe
                // page; CPython PipeListener.accept)
  timed_out,    // the deadline passed (would_block for an immediate deadline); still listening
};
// Waits for a client on a listening server instance. Throws npipe::error on any other failure.
connect_outcome connect_instance(HANDLE instance, overlapped& ov, deadline d,
                                 const std::string& what);

// The access a client asks for. Never GENERIC_WRITE: it includes FILE_APPEND_DATA, which for a
// pipe is FILE_CREATE_PIPE_INSTANCE and is granted to nobody but the owner (security.hpp), so a
// client of another user asking for it would be refused. FILE_WRITE_DATA is what writing needs;
// FILE_WRITE_ATTRIBUTES what SetNamedPipeHandleState(PIPE_READMODE_MESSAGE) needs;
// FILE_READ_ATTRIBUTES what GetNamedPipeInfo needs; reading asks for GENERIC_READ.
enum class client_access { read, write, duplex };
DWORD access_rights(client_access a) noexcept;

// Opens the client end of the pipe `name` (\\.\pipe\...) with `access` (GENERIC_READ, ...),
// overlapped, with SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION (FIFO-SEC-3). While every
// instance is busy it waits with WaitNamedPipe and retries until the deadline: would_block for an
// immediate deadline, timeout for a passed one. No instance at all: not_found.
unique_handle open_client(const std::string& name, client_access access, deadline d,
                          const std::string& what);

// Checks that `h` is a pipe of the type asked for (message mode for a channel, byte mode for a
// FIFO): not_a_pipe saying what it is otherwise. GetFileType, GetNamedPipeInfo.
void check_pipe_type(HANDLE h, bool message_mode, const std::string& what);

}  // namespace npipe::win32
