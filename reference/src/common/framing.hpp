// The length framing of Python's multiprocessing.connection on sockets (spec: CHAN-FRAME-1, -2,
// -4).
//
// A message of n bytes is a header then the n payload bytes. The header is a 4-byte big-endian
// signed length when n <= 0x7fffffff; otherwise it is the 4-byte value -1 (the "escape") followed
// by an 8-byte big-endian unsigned length. A receiver accepts the escape for any length, even a
// small one, because CPython does. Any other negative 4-byte length is a protocol error here
// (CPython would read it as an empty message: we refuse it instead, CHAN-FRAME-4).
//
// Pure and platform-free: no I/O, no allocation, so it can be fuzzed on its own.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace npipe::framing {

// The largest length the short (4-byte) header can carry.
constexpr std::uint64_t max_short_length = 0x7fffffff;
constexpr std::size_t short_header_size = 4;
constexpr std::size_t long_header_size = 12;  // the escape (4) + the 8-byte length

struct header {
  std::array<std::uint8_t, long_header_size> bytes{};
  std::size_t size = 0;  // 4 or 12: how many of `bytes` are the header
};

// The header that announces a message of n bytes.
header encode_header(std::uint64_t n) noexcept;

// Decodes a header from bytes fed in pieces of any size. It never takes more bytes than the header
// needs (bytes_needed()), so the caller can read exactly that much from a stream and never reads
// into the payload or the next message.
class header_decoder {
 public:
  enum class status {
    need_more,  // feed more bytes: bytes_needed() says how many at most
    complete,   // length() is the payload length
    error,      // a negative length other than -1: the stream cannot be trusted any more
  };

  // Takes up to n bytes from data (no more than bytes_needed()) and returns how many it took.
  // Feeding a decoder that is complete or in error takes nothing.
  std::size_t feed(const std::uint8_t* data, std::size_t n) noexcept;

  status state() const noexcept { return state_; }
  // How many more bytes the header needs right now (0 once complete or in error).
  std::size_t bytes_needed() const noexcept;
  // True once at least one header byte was fed: EOF now is inside a message, not between two.
  bool started() const noexcept { return filled_ > 0; }
  // The payload length; meaningful only when state() == complete.
  std::uint64_t length() const noexcept { return length_; }
  // The offending 4-byte value when state() == error.
  std::int32_t bad_length() const noexcept { return bad_length_; }

  void reset() noexcept { *this = header_decoder{}; }

 private:
  void decode_complete_word() noexcept;

  std::array<std::uint8_t, long_header_size> buf_{};
  std::size_t filled_ = 0;
  std::size_t expected_ = short_header_size;  // grows to long_header_size after the escape
  status state_ = status::need_more;
  std::uint64_t length_ = 0;
  std::int32_t bad_length_ = 0;
};

}  // namespace npipe::framing
