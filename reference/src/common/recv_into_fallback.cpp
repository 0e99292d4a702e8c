// connection::recv_bytes_into for backends without a native one (today: win32): recv_bytes, then
// a copy into the caller's buffer. Same results and errors, only not allocation-free. The POSIX
// backend has its own, in posix/channel.cpp, that receives straight into the buffer.
#if defined(_WIN32)

#include <cstring>

#include "npipe/channel.hpp"

namespace npipe {

std::optional<std::size_t> connection::recv_bytes_into(void* buf, std::size_t capacity,
                                                       deadline d) {
  std::optional<bytes> m = recv_bytes(capacity, d);
  if (!m) return std::nullopt;
  if (!m->empty()) std::memcpy(buf, m->data(), m->size());
  return m->size();
}

}  // namespace npipe

#endif  // _WIN32
