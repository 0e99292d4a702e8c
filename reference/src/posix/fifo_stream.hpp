// The POSIX FIFO end (backend::fifo_stream over a FIFO descriptor), for the owner's open, the
// peer's open and fifo_end::from_native.
#pragma once

#include <memory>

#include "common/backend.hpp"
#include "posix/unique_fd.hpp"

namespace npipe::posix {

// An end over `fd`, a FIFO open for `dir`, whose O_NONBLOCK already matches `mode`.
std::unique_ptr<backend::fifo_stream> make_fifo_stream(unique_fd fd, direction dir, io_mode mode);

// Sets or clears O_NONBLOCK on a descriptor just opened or adopted (never on an end in use).
void set_mode(int fd, io_mode mode, const char* what);

}  // namespace npipe::posix
