// Binding a listening AF_UNIX socket at a path, safely (spec CHAN-LISTEN-1..5).
#pragma once

#include <sys/types.h>

#include <string>

#include "posix/unique_fd.hpp"

namespace npipe::posix {

struct bound_listener {
  unique_fd fd;  // listening, non-blocking, close-on-exec
  // The socket file this listener made; it removes the path on close only while it is still it.
  dev_t dev = 0;
  ino_t ino = 0;
};

// Binds and listens at `path` with the file's permission bits set to exactly `mode` before
// listen(2), so no client can connect through a wider mode (CHAN-LISTEN-1). When the path exists:
//   a socket somebody listens on    -> already_exists, and that listener is not disturbed (-2);
//   a socket nobody listens on      -> stale: removed and replaced (-3);
//   anything else (file, dir, link) -> already_exists, left untouched (-4).
bound_listener bind_unix_listener(const std::string& path, unsigned mode, int backlog);

// Removes `path` if it is still the socket file (dev, ino) (CHAN-LISTEN-5). Never throws.
void unlink_if_same_socket(const std::string& path, dev_t dev, ino_t ino) noexcept;

}  // namespace npipe::posix
