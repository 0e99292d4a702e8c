// common/console_win32.cpp: the Windows half of console.hpp. Windows has no SIGPIPE, and a pipe
// name vanishes with the last server handle when the process ends (FIFO-LIFE-1), so interrupts
// need no clean-up here; what remains is raw, binary standard streams.
#include <fcntl.h>
#include <io.h>
#include <windows.h>

#include <cstdio>
#include <string>

#include "common/console.hpp"
#include "npipe/error.hpp"

namespace npipe::tools {
namespace {

[[noreturn]] void throw_stream_error(DWORD err, const char* what) {
  // ERROR_NO_DATA is Windows' "the reader of this pipe has gone" (spec: error model table).
  bool gone = err == ERROR_NO_DATA || err == ERROR_BROKEN_PIPE;
  throw npipe::error(gone ? errc::broken_pipe : errc::io_error,
                     std::string(what) + ": Win32 error " + std::to_string(err),
                     static_cast<int>(err),
                     err == ERROR_NO_DATA ? "ERROR_NO_DATA"
                                          : (err == ERROR_BROKEN_PIPE ? "ERROR_BROKEN_PIPE" : ""));
}

}  // namespace

void init_console(sigpipe_policy) {
  // Bytes pass unchanged: no CRLF translation, no ^Z end of file.
  _setmode(_fileno(stdin), _O_BINARY);
  _setmode(_fileno(stdout), _O_BINARY);
}

void watch_interrupts() {}
void remove_on_interrupt(const std::string&) {}
void keep_on_interrupt() {}

std::size_t read_stdin(void* buf, std::size_t n) {
  DWORD got = 0;
  DWORD want = n > 0x7fffffff ? 0x7fffffff : static_cast<DWORD>(n);
  if (ReadFile(GetStdHandle(STD_INPUT_HANDLE), buf, want, &got, nullptr)) return got;
  DWORD err = GetLastError();
  if (err == ERROR_BROKEN_PIPE || err == ERROR_HANDLE_EOF) return 0;  // the writer closed: EOF
  throw_stream_error(err, "read standard input");
}

void write_stdout(const void* buf, std::size_t n) {
  const char* p = static_cast<const char*>(buf);
  HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
  while (n > 0) {
    DWORD put = 0;
    DWORD want = n > 0x7fffffff ? 0x7fffffff : static_cast<DWORD>(n);
    if (!WriteFile(out, p, want, &put, nullptr))
      throw_stream_error(GetLastError(), "write standard output");
    p += put;
    n -= put;
  }
}

}  // namespace npipe::tools
