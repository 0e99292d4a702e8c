// npipe/name.hpp: names and their mapping to the platform (spec: NAME-*).
//
// A portable name is 1 to 80 characters from [A-Za-z0-9._-] that does not start with '.'.
// It maps to a path relative to the current directory on POSIX (as Python's AF_UNIX addresses and
// mkfifo(1) do) and to \\.\pipe\<name> on Windows. Anything else is a raw platform name and is
// used as it is: a path on POSIX, a \\.\pipe\ name on Windows. A name that cannot be represented
// on this platform gives errc::invalid_name.
#pragma once

#include <string>
#include <string_view>
#include <system_error>

namespace npipe {

enum class name_kind {
  fifo,     // FIFO profile: a FIFO special file on POSIX, a byte-mode pipe on Windows
  channel,  // Channel profile: an AF_UNIX socket path on POSIX, a message-mode pipe on Windows
};

// True when `name` is a portable name (the rule above).
bool is_portable_name(std::string_view name) noexcept;

// The platform name that `name` stands for. Throws npipe::error(invalid_name) with a message
// that says what is wrong: empty, contains NUL, longer than sun_path, not a \\.\pipe\ name, ...
// Makes no system call.
std::string platform_name(std::string_view name, name_kind kind);
// Returns "" with ec set (invalid_name) instead of throwing.
std::string platform_name(std::string_view name, name_kind kind, std::error_code& ec) noexcept;

}  // namespace npipe
