// recv/sendmsg loops with deadlines on a connected stream socket (the Channel profile).
#pragma once

#include <sys/types.h>

#include <cstddef>

#include "common/backend.hpp"
#include "npipe/deadline.hpp"

namespace npipe::posix {

// What recv_some returns when `d` passed before any byte arrived.
constexpr std::size_t kNotReady = static_cast<std::size_t>(-1);

// Receives at most n > 0 bytes, waiting until `d` for at least one. Returns the count, 0 at EOF,
// or kNotReady when the deadline passed first (never thrown). A connection reset by the peer
// also counts as EOF: the peer is gone either way, and whether that lands on a message boundary
// is for the caller to judge (CHAN-LIFE-2). Throws io_error and the like. With a forever
// deadline: one blocking recv(2); otherwise recv(MSG_DONTWAIT) first, then wait_fd.
std::size_t recv_some(int fd, void* buf, std::size_t n, const deadline& d);

// Sends the two parts (header, payload) with sendmsg(2) where the kernel takes them, looping on
// partial sends, waiting for room until `d` (MSG_DONTWAIT unless forever); never raises SIGPIPE
// (MSG_NOSIGNAL, or the socket's SO_NOSIGPIPE on macOS). Returns how many bytes of both parts
// went, with expired when the deadline passed first. broken_pipe when the peer is gone.
backend::progress send_two_parts(int fd, const void* first, std::size_t first_n, const void* second,
                                 std::size_t second_n, const deadline& d);

}  // namespace npipe::posix
