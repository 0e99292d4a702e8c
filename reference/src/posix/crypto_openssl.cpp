// crypto.hpp on top of OpenSSL's libcrypto.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <climits>

#include "common/crypto.hpp"
#include "npipe/error.hpp"

namespace npipe::crypto {
namespace {

// Python's names map to OpenSSL's explicitly: EVP_get_digestbyname() spells SHA-3 "SHA3-256",
// and an explicit table also keeps any other digest OpenSSL knows out of the handshake.
const EVP_MD* digest_for(std::string_view name) noexcept {
  if (name == "md5") return EVP_md5();
  if (name == "sha256") return EVP_sha256();
  if (name == "sha384") return EVP_sha384();
  if (name == "sha3_256") return EVP_sha3_256();
  if (name == "sha3_384") return EVP_sha3_384();
  return nullptr;
}

}  // namespace

std::optional<std::vector<std::uint8_t>> hmac(std::string_view digest_name, std::string_view key,
                                              const std::uint8_t* msg, std::size_t n) {
  const EVP_MD* md = digest_for(digest_name);
  if (md == nullptr || key.size() > INT_MAX) return std::nullopt;
  std::vector<std::uint8_t> out(EVP_MAX_MD_SIZE);
  unsigned int out_len = 0;
  // An empty key is legal (Python's authkey=b''); OpenSSL wants a non-null pointer for it.
  static const unsigned char kEmpty = 0;
  const void* key_ptr = key.empty() ? static_cast<const void*>(&kEmpty) : key.data();
  if (HMAC(md, key_ptr, static_cast<int>(key.size()), msg, n, out.data(), &out_len) == nullptr) {
    return std::nullopt;  // e.g. MD5 refused by a FIPS provider
  }
  out.resize(out_len);
  return out;
}

std::vector<std::uint8_t> random_bytes(std::size_t n) {
  std::vector<std::uint8_t> out(n);
  if (n > INT_MAX || RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
    throw npipe::error(errc::io_error, "the random generator (OpenSSL RAND_bytes) failed");
  }
  return out;
}

bool constant_time_equal(const std::uint8_t* a, const std::uint8_t* b, std::size_t n) noexcept {
  return CRYPTO_memcmp(a, b, n) == 0;
}

}  // namespace npipe::crypto
