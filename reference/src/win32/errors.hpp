// Win32 error codes -> the portable error vocabulary (spec: "Error model", ERR-1, ERR-2).
//
// One table for every code that CreateNamedPipe, ConnectNamedPipe, CreateFile, WaitNamedPipe,
// ReadFile, WriteFile, PeekNamedPipe, SetNamedPipeHandleState, GetOverlappedResult, CancelIoEx and
// the security calls can give. Some codes mean different things depending on the call, and then
// the caller states the portable code itself (the overloads that take an errc):
//   ERROR_ACCESS_DENIED  from CreateNamedPipe(FILE_FLAG_FIRST_PIPE_INSTANCE): already_exists
//                        (the name is held by another instance: pipe squatting defence);
//                        from CreateFile: permission_denied (DACL, or the pipe's direction).
//   ERROR_PIPE_BUSY      from CreateNamedPipe: already_exists (all instances taken);
//                        from CreateFile: would_block (immediate) or timeout (deadline passed).
//   ERROR_BROKEN_PIPE    from ReadFile: EOF, not an error (the caller returns 0 / nullopt);
//                        from WriteFile: broken_pipe.
//   ERROR_NO_DATA        from WriteFile: broken_pipe (the reader has gone);
//                        from ConnectNamedPipe: success (a client came and already left).
//   ERROR_PIPE_CONNECTED from ConnectNamedPipe: success.
#pragma once

#include <windows.h>

#include <string>

#include "npipe/error.hpp"

namespace npipe::win32 {

// The portable code for `err` out of context; io_error for anything unrecognised.
errc errc_from_win32(DWORD err) noexcept;

// The symbolic name of `err` ("ERROR_PIPE_BUSY"), or "" for a code not in the table.
const char* win32_error_name(DWORD err) noexcept;

// Builds the npipe::error for `err`: its code is `code`, its native value `err` and native name
// win32_error_name(err), its message "<what>: <system message> (<ERROR_NAME>)".
npipe::error make_win32_error(errc code, DWORD err, const std::string& what);
npipe::error make_win32_error(DWORD err, const std::string& what);

[[noreturn]] void throw_win32(DWORD err, const std::string& what);
[[noreturn]] void throw_win32(errc code, DWORD err, const std::string& what);
// throw_win32(GetLastError(), what).
[[noreturn]] void throw_last_error(const std::string& what);

}  // namespace npipe::win32
