// The POSIX connection (backend::message_stream over a connected AF_UNIX stream socket), for the
// listener's accepted sockets and the client's connected ones.
#pragma once

#include <memory>

#include "common/backend.hpp"
#include "posix/unique_fd.hpp"

namespace npipe::posix {

// A connection over `fd`: connected, blocking, close-on-exec.
std::unique_ptr<backend::message_stream> make_socket_stream(unique_fd fd);

}  // namespace npipe::posix
