// Blocking-with-deadline primitives on a connected stream socket, used by the Channel profile.
#pragma once

#include <sys/types.h>

#include <cstddef>

#include "npipe/deadline.hpp"

namespace npipe::posix {

// Waits until fd reports one of `events` (POLLIN, POLLOUT; POLLHUP and POLLERR always count).
// Returns false when `d` passes first; never throws for that, so callers choose the error.
bool wait_ready(int fd, short events, deadline d);

// Like wait_ready, but a passed deadline is an error: would_block for deadline::immediate(),
// timeout otherwise, with `what` saying what was waited for.
void wait_ready_or_throw(int fd, short events, deadline d, const char* what);

// Receives at most n > 0 bytes, waiting until `d` for at least one. Returns the count, or 0 at
// EOF. A connection reset by the peer also counts as EOF: the peer is gone either way, and
// whether that lands on a message boundary is for the caller to judge (CHAN-LIFE-2).
// Throws timeout / would_block / io_error.
std::size_t recv_some(int fd, void* buf, std::size_t n, deadline d);

// Sends the whole buffer described by the two parts (header, payload) as one sendmsg where the
// kernel takes it, looping on partial writes; never raises SIGPIPE. broken_pipe when the peer is
// gone.
void send_two_parts(int fd, const void* first, std::size_t first_n, const void* second,
                    std::size_t second_n);

}  // namespace npipe::posix
