// The POSIX state behind npipe::fifo_end, shared by fifo_end.cpp and fifo.cpp.
#pragma once

#include <string>

#include "npipe/fifo.hpp"
#include "posix/unique_fd.hpp"

namespace npipe {

struct fifo_end::impl {
  posix::unique_fd fd;
  direction dir = direction::read;
  std::string path;  // as given by the user, for messages
};

}  // namespace npipe
