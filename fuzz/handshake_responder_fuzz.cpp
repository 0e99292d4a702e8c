// fuzz/handshake_responder_fuzz.cpp: the handshake as responder against a hostile challenger
// (CHAN-AUTH-1..6, -11).
//
// Byte 0 chooses the key; the rest is the script of scripted_transport (the challenger's messages).
// Checks, against a reference written here from the spec:
//  - a challenge that does not start with #CHALLENGE#, is shorter than 20 bytes after it, or names
//    an unknown digest gives auth_failed and nothing is sent (CHAN-AUTH-11);
//  - otherwise exactly one answer is sent: the raw 16-byte HMAC-MD5 when M is 20 bytes, else
//    "{name}" + HMAC-name(key, M) over the whole M (CHAN-AUTH-2, -3);
//  - success only after #WELCOME#; anything else gives auth_failed (CHAN-AUTH-5), a timeout stays
//    timeout; no error message contains the key.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/crypto.hpp"
#include "common/handshake.hpp"
#include "fuzz_check.hpp"
#include "npipe/error.hpp"
#include "scripted_transport.hpp"

namespace {

using fuzz::byte_vector;

bool starts_with(const byte_vector& v, std::string_view p) {
  return v.size() >= p.size() && std::equal(p.begin(), p.end(), v.begin());
}

// The answer the spec requires to challenge message M, or nullopt when M must be refused.
std::optional<byte_vector> reference_answer(const std::string& key, const byte_vector& m) {
  if (m.size() < 20) return std::nullopt;
  if (m.size() == 20) return npipe::crypto::hmac("md5", key, m.data(), m.size());
  for (std::string_view name : {"md5", "sha256", "sha384", "sha3_256", "sha3_384"}) {
    std::string prefix = "{" + std::string(name) + "}";
    if (!starts_with(m, prefix)) continue;
    auto mac = npipe::crypto::hmac(name, key, m.data(), m.size());
    if (!mac) return std::nullopt;
    byte_vector a(prefix.begin(), prefix.end());
    a.insert(a.end(), mac->begin(), mac->end());
    return a;
  }
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string key = fuzz::pick_key(data[0]);
  fuzz::scripted_transport t(data + 1, size - 1, key);
  bool ok = false;
  try {
    npipe::handshake::answer_challenge(t, key, npipe::deadline::forever());
    ok = true;
  } catch (const npipe::error& e) {
    FUZZ_CHECK(!fuzz::leaks_key(e.what(), key), "the key appears in an error message");
    FUZZ_CHECK(e.value() == npipe::errc::auth_failed || e.value() == npipe::errc::timeout,
               "responder failed with neither auth_failed nor timeout");
  }
  FUZZ_CHECK(t.sent.size() <= 1, "the responder sent more than one answer");
  FUZZ_CHECK(t.receives <= 2, "the responder received more than challenge and verdict");
  std::optional<byte_vector> expected;
  if (!t.received.empty() && starts_with(t.received[0], "#CHALLENGE#")) {
    expected = reference_answer(key, byte_vector(t.received[0].begin() + 11, t.received[0].end()));
  }
  if (!t.sent.empty()) {
    FUZZ_CHECK(expected.has_value(), "an answer was sent to a challenge that must be refused");
    FUZZ_CHECK(t.sent[0] == *expected, "the answer differs from the reference");
  }
  if (ok) {
    FUZZ_CHECK(expected.has_value() && t.sent.size() == 1, "success without a valid round");
    FUZZ_CHECK(t.received.size() == 2 &&
                   t.received[1] == byte_vector({'#', 'W', 'E', 'L', 'C', 'O', 'M', 'E', '#'}),
               "success without #WELCOME#");
  }
  return 0;
}
