// Win32 error codes -> npipe::errc, their symbolic names, and the npipe::error built from them.
#include "win32/errors.hpp"

#include <cstdio>
#include <utility>

namespace npipe::win32 {
namespace {

struct win32_entry {
  DWORD value;
  const char* name;
  errc code;
};

#define NPIPE_WIN32(e, c) \
  { e, #e, errc::c }
const win32_entry kTable[] = {
    // No such pipe (spec section 5.1): CreateFile, WaitNamedPipe.
    NPIPE_WIN32(ERROR_FILE_NOT_FOUND, not_found),
    NPIPE_WIN32(ERROR_PATH_NOT_FOUND, not_found),
    NPIPE_WIN32(ERROR_BAD_NETPATH, not_found),
    NPIPE_WIN32(ERROR_BAD_NET_NAME, not_found),
    NPIPE_WIN32(ERROR_ALREADY_EXISTS, already_exists),
    NPIPE_WIN32(ERROR_FILE_EXISTS, already_exists),
    // WaitNamedPipe's timeout; WAIT_TIMEOUT is a wait function's result, listed for messages.
    NPIPE_WIN32(ERROR_SEM_TIMEOUT, timeout),
    NPIPE_WIN32(WAIT_TIMEOUT, timeout),
    NPIPE_WIN32(ERROR_TIMEOUT, timeout),
    // Every instance is taken (spec section 5.1): out of context a client's "try again".
    NPIPE_WIN32(ERROR_PIPE_BUSY, would_block),
    // A non-blocking (PIPE_NOWAIT) server with no client yet. npipe never sets PIPE_NOWAIT.
    NPIPE_WIN32(ERROR_PIPE_LISTENING, would_block),
    NPIPE_WIN32(ERROR_IO_PENDING, would_block),
    NPIPE_WIN32(ERROR_IO_INCOMPLETE, would_block),
    // The other end has gone (spec section 5.1).
    NPIPE_WIN32(ERROR_BROKEN_PIPE, broken_pipe),
    NPIPE_WIN32(ERROR_NO_DATA, broken_pipe),
    NPIPE_WIN32(ERROR_PIPE_NOT_CONNECTED, broken_pipe),
    NPIPE_WIN32(ERROR_NETNAME_DELETED, broken_pipe),
    // The handle or name is not a pipe: PeekNamedPipe / GetNamedPipeInfo on a file.
    NPIPE_WIN32(ERROR_BAD_PIPE, not_a_pipe),
    NPIPE_WIN32(ERROR_INVALID_FUNCTION, not_a_pipe),
    NPIPE_WIN32(ERROR_ACCESS_DENIED, permission_denied),
    NPIPE_WIN32(ERROR_NETWORK_ACCESS_DENIED, permission_denied),
    NPIPE_WIN32(ERROR_PRIVILEGE_NOT_HELD, permission_denied),
    NPIPE_WIN32(ERROR_BAD_IMPERSONATION_LEVEL, permission_denied),
    NPIPE_WIN32(ERROR_CANT_OPEN_ANONYMOUS, permission_denied),
    // spec NAME-3: a name that is not \\.\pipe\NAME, or too long.
    NPIPE_WIN32(ERROR_INVALID_NAME, invalid_name),
    NPIPE_WIN32(ERROR_BAD_PATHNAME, invalid_name),
    NPIPE_WIN32(ERROR_FILENAME_EXCED_RANGE, invalid_name),
    NPIPE_WIN32(ERROR_BUFFER_OVERFLOW, invalid_name),
    // spec CHAN-RECV-1: a message longer than the read buffer (the caller handles it; listed for
    // messages).
    NPIPE_WIN32(ERROR_MORE_DATA, message_too_long),
    NPIPE_WIN32(ERROR_NOT_SUPPORTED, unsupported),
    NPIPE_WIN32(ERROR_CALL_NOT_IMPLEMENTED, unsupported),
    NPIPE_WIN32(ERROR_NOT_FOUND, unsupported),  // BCrypt: no such algorithm
    // Everything below is io_error, listed only so that messages carry the symbolic name.
    NPIPE_WIN32(ERROR_OPERATION_ABORTED, io_error),
    NPIPE_WIN32(ERROR_INVALID_HANDLE, io_error),
    NPIPE_WIN32(ERROR_INVALID_PARAMETER, io_error),
    NPIPE_WIN32(ERROR_NOT_ENOUGH_MEMORY, io_error),
    NPIPE_WIN32(ERROR_OUTOFMEMORY, io_error),
    NPIPE_WIN32(ERROR_NO_SYSTEM_RESOURCES, io_error),
    NPIPE_WIN32(ERROR_TOO_MANY_OPEN_FILES, io_error),
    NPIPE_WIN32(ERROR_INSUFFICIENT_BUFFER, io_error),
    NPIPE_WIN32(ERROR_HANDLE_EOF, io_error),
    NPIPE_WIN32(ERROR_GEN_FAILURE, io_error),
    NPIPE_WIN32(ERROR_INVALID_USER_BUFFER, io_error),
    NPIPE_WIN32(ERROR_NOT_ENOUGH_QUOTA, io_error),
    NPIPE_WIN32(ERROR_WORKING_SET_QUOTA, io_error),
    NPIPE_WIN32(ERROR_NO_TOKEN, io_error),
    NPIPE_WIN32(ERROR_INVALID_ACL, io_error),
    NPIPE_WIN32(ERROR_INVALID_SID, io_error),
    NPIPE_WIN32(ERROR_INVALID_SECURITY_DESCR, io_error),
};
#undef NPIPE_WIN32

const win32_entry* find(DWORD err) noexcept {
  for (const auto& e : kTable) {
    if (e.value == err) return &e;
  }
  return nullptr;
}

std::string describe(DWORD err) {
  char buf[512] = {};
  DWORD n = ::FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr,
                             err, 0, buf, sizeof buf, nullptr);
  while (n > 0 &&
         (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '.')) {
    buf[--n] = '\0';
  }
  return n > 0 ? std::string(buf, n) : std::string("Win32 error");
}

}  // namespace

errc errc_from_win32(DWORD err) noexcept {
  const win32_entry* e = find(err);
  return e ? e->code : errc::io_error;
}

const char* win32_error_name(DWORD err) noexcept {
  const win32_entry* e = find(err);
  return e ? e->name : "";
}

npipe::error make_win32_error(errc code, DWORD err, const std::string& what) {
  std::string message = what + ": " + describe(err);
  const char* name = win32_error_name(err);
  if (*name != '\0') {
    message += " (";
    message += name;
    message += ")";
  } else {
    message += " (Win32 error " + std::to_string(err) + ")";
  }
  return npipe::error(code, message, static_cast<int>(err), name);
}

npipe::error make_win32_error(DWORD err, const std::string& what) {
  return make_win32_error(errc_from_win32(err), err, what);
}

void throw_win32(DWORD err, const std::string& what) {
  throw make_win32_error(err, what);
}

void throw_win32(errc code, DWORD err, const std::string& what) {
  throw make_win32_error(code, err, what);
}

void throw_last_error(const std::string& what) {
  throw_win32(::GetLastError(), what);
}

}  // namespace npipe::win32
