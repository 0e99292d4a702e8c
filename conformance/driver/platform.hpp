// platform.hpp: what the driver needs of the operating system besides processes (process.hpp),
// with a POSIX and a Windows implementation (posix/platform.cpp, win32/platform.cpp). Nothing
// above this line names a platform.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace npipe::conformance::platform {

// Process-wide set-up, first thing in main. POSIX: SIGPIPE ignored (a write to an agent that
// died is EPIPE, not the driver's death; agents get the default back, see process.hpp).
void init();

// On ^C, SIGTERM or SIGHUP (Windows: a console control event), runs `cleanup` (in a thread of
// its own, in normal context, not a signal handler), then exits with 128 + the signal number
// (Windows: 130).
void on_interrupt(std::function<void()> cleanup);

// A new private directory for the run's scenario directories, "<temp>/npc-XXXXXX": short, since
// AF_UNIX paths must fit in sun_path (108 bytes on Linux, 104 on macOS). "" on failure.
std::string make_run_dir();
// A directory only this user can enter (POSIX 0700). False when it cannot be made.
bool make_private_dir(const std::string& path);
// Removes a tree without following symbolic links; errors are ignored.
void remove_tree(const std::string& dir) noexcept;

// The directory of the running executable ("." when unknown).
std::string self_dir();
// For report.json's run_info: "Debian GNU/Linux 12 (bookworm)", "Linux 6.1.0 x86_64".
std::string os_name();
std::string kernel();
// The host platform in the configuration's words: "linux", "darwin", "freebsd", "windows".
std::string host_platform();

// Whether `path` names a program this user can run.
bool is_executable(const std::string& path);
// Whether `command` is found on PATH (Windows: also with .exe).
bool on_path(const std::string& command);
// `arg` quoted for the command lines the driver starts agents with (POSIX: /bin/sh; Windows:
// CreateProcess's rules), unchanged when it needs no quotes.
std::string quote(const std::string& arg);
// Runs a command line through the shell with its output discarded; its exit status.
int run_quiet(const std::string& command_line);
// Runs a command line through the shell; what it printed on stdout ("" on failure).
std::string capture(const std::string& command_line);
// " 2>/dev/null" or " 2>NUL": appended to a command line for capture(), drops its stderr.
const char* null_stderr();
// The Python that runs spec/tools/requirements.py when --python is not given.
std::string default_python();

// One CPython per minor version >= min_minor, as a command line that starts it: POSIX:
// $PYENV_ROOT/versions (else `pyenv root`'s), the newest patch release of each minor, then
// python3.X on PATH (pyenv's shims skipped); Windows: `py -3.X` (the launcher's registry of
// installations), then python.exe on PATH.
std::map<int, std::string> find_cpythons(int min_minor);

// Driver-side sockets (raw peers): shut down to wake a blocked call, and closed.
void shutdown_socket(int fd) noexcept;
void close_socket(int fd) noexcept;

}  // namespace npipe::conformance::platform
