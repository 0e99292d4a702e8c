// The three primitives the authentication handshake needs (spec: CHAN-AUTH-*), kept behind one
// small interface so each platform brings its own implementation: OpenSSL on POSIX
// (posix/crypto_openssl.cpp), BCrypt on Windows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace npipe::crypto {

// HMAC of msg under key with the digest Python names digest_name: "md5", "sha256", "sha384",
// "sha3_256" or "sha3_384". std::nullopt when the name is not one of those (or the platform
// cannot compute it): the caller decides what that means.
std::optional<std::vector<std::uint8_t>> hmac(std::string_view digest_name, std::string_view key,
                                              const std::uint8_t* msg, std::size_t n);

// n bytes from the platform's cryptographic random generator. Throws npipe::error(io_error) when
// the generator fails: a predictable challenge must never be sent.
std::vector<std::uint8_t> random_bytes(std::size_t n);

// Compares two equally long buffers in time that depends only on n (CHAN-AUTH-7).
bool constant_time_equal(const std::uint8_t* a, const std::uint8_t* b, std::size_t n) noexcept;

}  // namespace npipe::crypto
