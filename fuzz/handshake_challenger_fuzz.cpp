// fuzz/handshake_challenger_fuzz.cpp: the handshake as challenger (verifier) against a hostile
// responder (CHAN-AUTH-2..7, CHAN-AUTH-11 as the verifier sees it).
//
// Byte 0: bit 0 chooses the mode, the other bits the key and the challenge form.
// Mode 0: deliver_challenge() over scripted_transport (script = the rest of the input). Only a
//   whole answer computed with the right key is ever accepted; a wrong, truncated, oversized or
//   malformed answer gives auth_failed after #FAILURE# (when it can still be sent); #WELCOME# is
//   sent only on success; no error message contains the key.
// Mode 1: response_problem(key, M, R) directly, M and R from the input, against a reference set
//   of the valid answers computed here (raw 16-byte HMAC-MD5, or "{name}" + HMAC-name for the five
//   allowed names, the MAC over the whole of M).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/crypto.hpp"
#include "common/handshake.hpp"
#include "fuzz_check.hpp"
#include "npipe/error.hpp"
#include "scripted_transport.hpp"

namespace {

using fuzz::byte_vector;
namespace hs = npipe::handshake;

bool equals(const byte_vector& v, std::string_view s) {
  return v.size() == s.size() && std::equal(s.begin(), s.end(), v.begin());
}

void run_challenger(const std::uint8_t* data, std::size_t n, std::uint8_t control) {
  const std::string key = fuzz::pick_key(control >> 1);
  const npipe::challenge_form form =
      (control >> 3) & 1 ? npipe::challenge_form::legacy_md5 : npipe::challenge_form::sha256;
  fuzz::scripted_transport t(data, n, key);
  bool ok = false;
  npipe::errc failure{};
  try {
    hs::deliver_challenge(t, key, form, npipe::deadline::forever());
    ok = true;
  } catch (const npipe::error& e) {
    failure = e.value();
    FUZZ_CHECK(!fuzz::leaks_key(e.what(), key), "the key appears in an error message");
    FUZZ_CHECK(failure == npipe::errc::auth_failed || failure == npipe::errc::timeout,
               "challenger failed with neither auth_failed nor timeout");
  }
  // The challenge went first, in the form asked (CHAN-AUTH-2, -3), unless that send failed.
  if (!t.sent.empty()) {
    const byte_vector& c = t.sent[0];
    const std::string_view prefix = form == npipe::challenge_form::sha256
                                        ? std::string_view("#CHALLENGE#{sha256}")
                                        : std::string_view("#CHALLENGE#");
    const std::size_t random = form == npipe::challenge_form::sha256 ? 40 : 20;
    FUZZ_CHECK(
        c.size() == prefix.size() + random && std::equal(prefix.begin(), prefix.end(), c.begin()),
        "the challenge has the wrong form");
  }
  for (std::size_t i = 1; i < t.sent.size(); ++i) {
    FUZZ_CHECK(equals(t.sent[i], "#WELCOME#") || equals(t.sent[i], "#FAILURE#"),
               "the challenger sent something other than a verdict");
  }
  FUZZ_CHECK(t.sent.size() <= 2 && t.receives <= 1, "the challenger ran more than one round");
  if (ok) {
    FUZZ_CHECK(t.last_answer_right, "an answer not computed with the right key was accepted");
    FUZZ_CHECK(t.sent.size() == 2 && equals(t.sent[1], "#WELCOME#"), "success without #WELCOME#");
  } else {
    FUZZ_CHECK(t.sent.size() < 2 || equals(t.sent[1], "#FAILURE#"), "#WELCOME# sent on failure");
  }
}

// Every answer the verifier must accept for M under key (CHAN-AUTH-4).
std::vector<byte_vector> valid_answers(const std::string& key, const byte_vector& m) {
  std::vector<byte_vector> out;
  if (auto raw = npipe::crypto::hmac("md5", key, m.data(), m.size())) out.push_back(*raw);
  for (std::string_view name : {"md5", "sha256", "sha384", "sha3_256", "sha3_384"}) {
    auto mac = npipe::crypto::hmac(name, key, m.data(), m.size());
    if (!mac) continue;
    byte_vector a{'{'};
    a.insert(a.end(), name.begin(), name.end());
    a.push_back('}');
    a.insert(a.end(), mac->begin(), mac->end());
    out.push_back(a);
  }
  return out;
}

void run_verifier(const std::uint8_t* data, std::size_t n, std::uint8_t control) {
  if (n == 0) return;
  const std::string key = fuzz::pick_key(control >> 1);
  const std::size_t m_len = std::min<std::size_t>(data[0], n - 1);
  const byte_vector m(data + 1, data + 1 + m_len);
  byte_vector r(data + 1 + m_len, data + n);
  // Byte values 0xA0..0xA5 in control's top bits turn R into a right answer, maybe truncated, so
  // the accepting side is exercised too.
  if ((control >> 4) >= 0x0a) {
    auto answers = valid_answers(key, m);
    if (!answers.empty()) {
      r = answers[(control >> 4) % answers.size()];
      r.resize(r.size() - std::min<std::size_t>(r.size(), data[0] % 3));
    }
  }
  std::optional<std::string> problem = hs::response_problem(key, m, r);
  bool expected_valid = false;
  for (const auto& a : valid_answers(key, m))
    expected_valid = expected_valid || a == r;
  FUZZ_CHECK(problem.has_value() != expected_valid, "verifier disagrees with the reference");
  if (problem) FUZZ_CHECK(!fuzz::leaks_key(*problem, key), "the key appears in a problem text");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t control = data[0];
  if (control & 1) {
    run_verifier(data + 1, size - 1, control);
  } else {
    run_challenger(data + 1, size - 1, control);
  }
  return 0;
}
