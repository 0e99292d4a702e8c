// common/console.hpp: the process-wide set-up both tools need, and their raw standard streams.
//
// Everything in the tools that differs between POSIX and Windows is behind this header, so the
// rest of the tools is one portable source (console_posix.cpp, console_win32.cpp).
#pragma once

#include <cstddef>
#include <string>

namespace npipe::tools {

// What a tool does with SIGPIPE (POSIX; nothing on Windows).
enum class sigpipe_policy {
  // Ignored process-wide: the tool never dies of SIGPIPE, whatever it writes to. A tool is a whole
  // program, so it may set the disposition that the library itself must leave alone (FIFO-PIPE-2).
  ignore,
  // Left at its default. The tool's own stdout writes are protected (write_stdout), and the
  // library must protect its writes by itself (FIFO-PIPE-1): the agent runs this way, so the
  // conformance suite checks that the library does (spec/driver-protocol.md section 1).
  leave_default,
};

// Called first in main(). stdin and stdout carry bytes unchanged (binary mode on Windows).
void init_console(sigpipe_policy sigpipe = sigpipe_policy::ignore);

// Called first in main() by a tool that owns names (the CLI): from now on an interrupt (SIGINT,
// SIGTERM, SIGHUP on POSIX) first removes the path given to remove_on_interrupt(), then ends the
// process as the signal would have. Must run before any thread is started.
void watch_interrupts();

// The path to remove if an interrupt comes, when it is still the file it is now (same device and
// inode: a name re-created by someone else is left alone, FIFO-REMOVE-4). One path at a time;
// a no-op where names vanish with their process anyway (Windows).
void remove_on_interrupt(const std::string& path);
// Forgets the path given to remove_on_interrupt(), once the name is removed or given away.
void keep_on_interrupt();

// Reads up to n bytes of stdin; 0 at EOF. Throws npipe::error (io_error) on failure.
std::size_t read_stdin(void* buf, std::size_t n);

// Writes all n bytes to stdout, unbuffered. Throws npipe::error: broken_pipe when the reader of
// stdout has gone, io_error otherwise; never raises SIGPIPE (POSIX: blocked in this thread around
// the write, and one the write raised is consumed before the mask is restored).
void write_stdout(const void* buf, std::size_t n);

}  // namespace npipe::tools
