// Python's multiprocessing.connection length framing: encoding and incremental decoding.
#include "common/framing.hpp"

#include <algorithm>

namespace npipe::framing {
namespace {

std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

std::uint64_t load_be64(const std::uint8_t* p) noexcept {
  return (std::uint64_t{load_be32(p)} << 32) | load_be32(p + 4);
}

void store_be(std::uint8_t* p, std::uint64_t v, std::size_t width) noexcept {
  for (std::size_t i = 0; i < width; ++i) {
    p[width - 1 - i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
}

}  // namespace

header encode_header(std::uint64_t n) noexcept {
  header h;
  if (n <= max_short_length) {
    store_be(h.bytes.data(), n, 4);
    h.size = short_header_size;
  } else {
    // The escape: the 32-bit two's complement of -1, then the real length (CHAN-FRAME-2).
    store_be(h.bytes.data(), 0xffffffffu, 4);
    store_be(h.bytes.data() + 4, n, 8);
    h.size = long_header_size;
  }
  return h;
}

std::size_t header_decoder::bytes_needed() const noexcept {
  return state_ == status::need_more ? expected_ - filled_ : 0;
}

std::size_t header_decoder::feed(const std::uint8_t* data, std::size_t n) noexcept {
  std::size_t taken = 0;
  // Two rounds at most: the 4-byte word, then (after the escape) the 8-byte length.
  while (state_ == status::need_more && taken < n) {
    std::size_t take = std::min(n - taken, bytes_needed());
    std::copy(data + taken, data + taken + take,
              buf_.begin() + static_cast<std::ptrdiff_t>(filled_));
    filled_ += take;
    taken += take;
    if (filled_ < expected_) break;
    decode_complete_word();
  }
  return taken;
}

void header_decoder::decode_complete_word() noexcept {
  if (expected_ == short_header_size) {
    // Two's complement reinterpretation, as Python's struct.unpack("!i").
    auto value = static_cast<std::int32_t>(load_be32(buf_.data()));
    if (value == -1) {
      expected_ = long_header_size;  // the 8-byte length follows
    } else if (value < 0) {
      bad_length_ = value;
      state_ = status::error;
    } else {
      length_ = static_cast<std::uint64_t>(value);
      state_ = status::complete;
    }
  } else {
    length_ = load_be64(buf_.data() + short_header_size);
    state_ = status::complete;
  }
}

}  // namespace npipe::framing
