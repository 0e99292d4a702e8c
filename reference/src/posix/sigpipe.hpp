// Writing to a pipe without ever being killed by SIGPIPE, and without touching the process-wide
// SIGPIPE disposition (spec FIFO-PIPE-1, FIFO-PIPE-2).
//
// Sockets do not need this (send with MSG_NOSIGNAL); FIFOs have no per-call flag, so the signal is
// blocked in the calling thread for the duration of the write(2) and consumed if the write made it.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace npipe::posix {

// write(2) with SIGPIPE suppressed for this call only. Same result as write(2): the count, or -1
// with errno set (EPIPE instead of a signal when no reader is left). A SIGPIPE that was already
// pending before the call is left pending: it is not ours to eat. One that another thread or
// process sends to us DURING the call cannot be told apart from ours and is consumed too.
ssize_t write_without_sigpipe(int fd, const void* buf, std::size_t n) noexcept;

}  // namespace npipe::posix
