// The driver protocol's deterministic payload (spec/driver-protocol.md, section 3, "Patterns").
#include "codec.hpp"

namespace npipe::protocol {

void fill_pattern(std::uint8_t* out, std::size_t n, unsigned seed, std::uint64_t offset) {
  unsigned phase = static_cast<unsigned>(offset % 251);
  for (std::size_t k = 0; k < n; ++k) {
    out[k] = static_cast<std::uint8_t>((seed + phase) & 0xff);
    if (++phase == 251) phase = 0;
  }
}

}  // namespace npipe::protocol
