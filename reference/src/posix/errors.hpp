// POSIX errno -> the portable error vocabulary (spec: "Error model", ERR-1, ERR-2).
//
// One table for every errno the FIFO and socket calls can give. Some errnos mean different things
// depending on the call (ENXIO from open(O_WRONLY|O_NONBLOCK) is "no reader yet"; ELOOP from an
// O_NOFOLLOW open is "the path is a symlink"; EINVAL from a name-taking call is a bad name): the
// caller then states the portable code itself with the throw_errno overload that takes one.
#pragma once

#include <string>

#include "npipe/error.hpp"

namespace npipe::posix {

// The portable code for `err` out of context; io_error for anything unrecognised.
errc errc_from_errno(int err) noexcept;

// The symbolic name of `err` ("ENOENT"), or "" for a value not in the table.
const char* errno_name(int err) noexcept;

// Builds the npipe::error for `err`: its code is `code`, its native value `err` and native name
// errno_name(err), its message "<what>: <strerror(err)> (<ENAME>)". `what` should name the call
// and the path, e.g. "open 'jobs' for writing".
npipe::error make_errno_error(errc code, int err, const std::string& what);
npipe::error make_errno_error(int err, const std::string& what);

// Throws make_errno_error(...).
[[noreturn]] void throw_errno(int err, const std::string& what);
[[noreturn]] void throw_errno(errc code, int err, const std::string& what);

}  // namespace npipe::posix
