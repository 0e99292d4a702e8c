// The byte encodings of the driver protocol (spec/driver-protocol.md, section 3), shared by the
// reference agent and the conformance driver. Portable and dependency-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace npipe::protocol {

// Standard base64 with padding (RFC 4648, section 4).
std::string base64_encode(std::string_view bytes);
// nullopt when `text` is not valid padded base64 (wrong length, foreign character, bad padding).
std::optional<std::string> base64_decode(std::string_view text);

// The protocol's pattern: out[k] = (seed + (offset + k) % 251) % 256. The period 251 is prime, so
// a lost, repeated or reordered chunk of any power-of-two size changes the digest.
void fill_pattern(std::uint8_t* out, std::size_t n, unsigned seed, std::uint64_t offset = 0);

// SHA-256 (FIPS 180-4), streaming; digests travel as lowercase hex.
class sha256 {
 public:
  sha256();
  void update(const void* data, std::size_t n);
  // The digest of everything given so far, as 64 lowercase hex digits. Ends the hashing.
  std::string hex_digest();

 private:
  void compress(const std::uint8_t* block);
  std::uint32_t state_[8];
  std::uint8_t block_[64];
  std::size_t used_ = 0;
  std::uint64_t total_ = 0;
};

}  // namespace npipe::protocol
