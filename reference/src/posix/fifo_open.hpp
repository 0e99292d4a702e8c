// Opening one end of a POSIX FIFO safely, in the three deadline forms (spec FIFO-OPEN-*).
// Private to the POSIX FIFO code (fifo_name.cpp).
#pragma once

#include <sys/types.h>

#include <string>

#include "npipe/deadline.hpp"
#include "npipe/fifo.hpp"
#include "posix/unique_fd.hpp"

namespace npipe::posix {

// The inode a name stood for when checked; remove() and the owner's open compare against it.
struct file_identity {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const file_identity& o) const noexcept { return dev == o.dev && ino == o.ino; }
  bool operator!=(const file_identity& o) const noexcept { return !(*this == o); }
};

// "a regular file", "a directory", "a symbolic link", ... for messages.
const char* describe_file_type(mode_t mode) noexcept;

// Opens `path` for `dir`, waiting for the other side as `d` says. The path must be a FIFO, and
// when `expected` is given, that very FIFO (else not_found: the name was removed or replaced).
// A symlink, regular file, directory, device or socket gives not_a_pipe and is never blocked on,
// truncated, read or written. The returned descriptor is close-on-exec and in blocking mode.
unique_fd open_fifo_path(const std::string& path, direction dir, deadline d,
                         const file_identity* expected = nullptr);

}  // namespace npipe::posix
