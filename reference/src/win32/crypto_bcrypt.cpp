// crypto.hpp on top of Windows CNG (BCrypt): HMAC through BCRYPT_ALG_HANDLE_HMAC_FLAG providers,
// random bytes from the system-preferred RNG.
//
// SHA-3: CNG has "SHA3-256" / "SHA3-384" only from Windows 11 24H2; older Windows and Wine 8 do
// not. BCryptOpenAlgorithmProvider then fails, hmac() returns std::nullopt, and the handshake
// treats the digest as unsupported: a peer that answers "{sha3_256}..." is refused (auth_failed),
// and a "{sha3_256}" challenge cannot be answered (auth_failed). CPython itself never sends SHA-3
// (it challenges with sha256 and answers in the challenge's digest), so this only matters against
// a deliberately SHA-3 peer.
#include <windows.h>
// windows.h first: bcrypt.h needs its types.
#include <bcrypt.h>

#include <climits>

#include "common/crypto.hpp"
#include "npipe/error.hpp"

namespace npipe::crypto {
namespace {

const wchar_t* algorithm_for(std::string_view name) noexcept {
  // Python's names map to CNG's explicitly, which also keeps every other digest out.
  if (name == "md5") return BCRYPT_MD5_ALGORITHM;
  if (name == "sha256") return BCRYPT_SHA256_ALGORITHM;
  if (name == "sha384") return BCRYPT_SHA384_ALGORITHM;
  if (name == "sha3_256") return L"SHA3-256";
  if (name == "sha3_384") return L"SHA3-384";
  return nullptr;
}

struct provider {
  BCRYPT_ALG_HANDLE h = nullptr;
  ~provider() {
    if (h) ::BCryptCloseAlgorithmProvider(h, 0);
  }
};

struct hash_object {
  BCRYPT_HASH_HANDLE h = nullptr;
  ~hash_object() {
    if (h) ::BCryptDestroyHash(h);
  }
};

bool ok(NTSTATUS s) noexcept {
  return s >= 0;
}

}  // namespace

std::optional<std::vector<std::uint8_t>> hmac(std::string_view digest_name, std::string_view key,
                                              const std::uint8_t* msg, std::size_t n) {
  const wchar_t* alg = algorithm_for(digest_name);
  if (alg == nullptr || key.size() > ULONG_MAX || n > ULONG_MAX) return std::nullopt;
  provider p;
  if (!ok(::BCryptOpenAlgorithmProvider(&p.h, alg, nullptr, BCRYPT_ALG_HANDLE_HMAC_FLAG))) {
    return std::nullopt;  // unknown to this CNG (SHA-3 before Windows 11 24H2, Wine)
  }
  DWORD length = 0;
  ULONG got = 0;
  if (!ok(::BCryptGetProperty(p.h, BCRYPT_HASH_LENGTH, reinterpret_cast<PUCHAR>(&length),
                              sizeof length, &got, 0))) {
    return std::nullopt;
  }
  // An empty key is legal (Python's authkey=b''): CNG takes a null pointer with length 0.
  static unsigned char empty_key = 0;
  auto* key_ptr =
      key.empty() ? &empty_key : reinterpret_cast<PUCHAR>(const_cast<char*>(key.data()));
  hash_object hash;
  if (!ok(::BCryptCreateHash(p.h, &hash.h, nullptr, 0, key_ptr, static_cast<ULONG>(key.size()),
                             0))) {
    return std::nullopt;
  }
  if (n > 0 && !ok(::BCryptHashData(hash.h, const_cast<PUCHAR>(msg), static_cast<ULONG>(n), 0))) {
    return std::nullopt;
  }
  std::vector<std::uint8_t> out(length);
  if (!ok(::BCryptFinishHash(hash.h, out.data(), length, 0))) return std::nullopt;
  return out;
}

std::vector<std::uint8_t> random_bytes(std::size_t n) {
  std::vector<std::uint8_t> out(n);
  if (n > ULONG_MAX || (n > 0 && !ok(::BCryptGenRandom(nullptr, out.data(), static_cast<ULONG>(n),
                                                       BCRYPT_USE_SYSTEM_PREFERRED_RNG)))) {
    throw npipe::error(errc::io_error, "the random generator (BCryptGenRandom) failed");
  }
  return out;
}

bool constant_time_equal(const std::uint8_t* a, const std::uint8_t* b, std::size_t n) noexcept {
  // Every byte is looked at; the volatile accumulator keeps the compiler from stopping early.
  volatile std::uint8_t diff = 0;
  for (std::size_t i = 0; i < n; ++i)
    diff = static_cast<std::uint8_t>(diff | (a[i] ^ b[i]));
  return diff == 0;
}

}  // namespace npipe::crypto
