// The multiprocessing.connection authentication handshake, as CPython 3.12+ runs it
// (Lib/multiprocessing/connection.py: deliver_challenge, answer_challenge, _verify_challenge).
#include "common/handshake.hpp"

#include <algorithm>
#include <array>
#include <string>

#include "common/crypto.hpp"
#include "npipe/error.hpp"

namespace npipe::handshake {
namespace {

using byte_vector = std::vector<std::uint8_t>;

constexpr std::string_view kChallenge = "#CHALLENGE#";
constexpr std::string_view kWelcome = "#WELCOME#";
constexpr std::string_view kFailure = "#FAILURE#";

// CPython 3.12+: _ALLOWED_DIGESTS, MESSAGE_LENGTH (random bytes of the modern challenge),
// _MD5ONLY_MESSAGE_LENGTH (the whole legacy challenge) and _MD5_DIGEST_LEN (a raw MD5 answer).
constexpr std::array<std::string_view, 5> kAllowedDigests = {"md5", "sha256", "sha384", "sha3_256",
                                                             "sha3_384"};
constexpr std::size_t kModernRandomLength = 40;
constexpr std::size_t kLegacyChallengeLength = 20;
constexpr std::size_t kMd5Length = 16;
constexpr std::size_t kMaxDigestNameLength = 8;  // "sha3_256", "sha3_384"

bool starts_with(const byte_vector& v, std::string_view prefix) {
  return v.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), v.begin());
}

bool equals(const byte_vector& v, std::string_view s) {
  return v.size() == s.size() && std::equal(s.begin(), s.end(), v.begin());
}

void send(message_transport& t, std::string_view s) {
  t.send_message(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

void send(message_transport& t, const byte_vector& v) {
  t.send_message(v.data(), v.size());
}

[[noreturn]] void fail(const std::string& why) {
  throw npipe::error(errc::auth_failed, "authentication handshake: " + why);
}

// CPython's _get_digest_name_and_payload: a 16- or 20-byte message is legacy (name ""), otherwise
// it must start with "{name}" where "}" is within the first 10 bytes and name is allowed.
// Returns false when neither.
bool split_digest_prefix(const byte_vector& message, std::string& name, std::size_t& payload_at) {
  if (message.size() == kLegacyChallengeLength || message.size() == kMd5Length) {
    name.clear();
    payload_at = 0;
    return true;
  }
  if (message.empty() || message[0] != '{') return false;
  std::size_t search_end = std::min(message.size(), kMaxDigestNameLength + 2);
  auto close =
      std::find(message.begin() + 1, message.begin() + static_cast<std::ptrdiff_t>(search_end),
                std::uint8_t{'}'});
  if (close == message.begin() + static_cast<std::ptrdiff_t>(search_end)) return false;
  std::string candidate(message.begin() + 1, close);
  if (std::find(kAllowedDigests.begin(), kAllowedDigests.end(), candidate) ==
      kAllowedDigests.end()) {
    return false;
  }
  name = std::move(candidate);
  payload_at = static_cast<std::size_t>(close - message.begin()) + 1;
  return true;
}

// Receives one handshake message. The transport's own failures that mean "the peer did not play
// the protocol" become auth_failed, so an accept loop needs one catch for every bad client;
// timeout stays timeout (CHAN-AUTH-8).
byte_vector receive(message_transport& t, deadline d, const char* what) {
  std::optional<byte_vector> m;
  try {
    m = t.receive_message(max_message_size, d);
  } catch (const npipe::error& e) {
    switch (e.value()) {
      case errc::message_too_long:
        fail(std::string(what) + " is longer than " + std::to_string(max_message_size) +
             " bytes; refused without reading it");
      case errc::protocol_error:
      case errc::broken_pipe:
        fail(std::string(what) + " could not be received: " + e.message());
      case errc::would_block:
        throw npipe::error(errc::timeout, std::string("authentication handshake: ") + what +
                                              " did not arrive before the deadline");
      default:
        throw;
    }
  }
  if (!m) fail(std::string("the peer closed the connection instead of sending ") + what);
  return std::move(*m);
}

// Sends one handshake message; a peer already gone is a failed handshake, not a broken pipe.
template <class Message>
void send_or_fail(message_transport& t, const Message& m, const char* what) {
  try {
    send(t, m);
  } catch (const npipe::error& e) {
    if (e.value() != errc::broken_pipe) throw;
    fail(std::string("could not send ") + what + ": " + e.message());
  }
}

}  // namespace

byte_vector make_response(std::string_view key, const byte_vector& m) {
  if (m.size() < kLegacyChallengeLength) {
    fail("the challenge is too short (" + std::to_string(m.size()) + " bytes, at least " +
         std::to_string(kLegacyChallengeLength) + " expected)");
  }
  std::string name;
  std::size_t payload_at = 0;
  if (!split_digest_prefix(m, name, payload_at)) {
    fail(
        "the challenge names no supported digest (expected 20 bytes or a {md5}, {sha256}, "
        "{sha384}, {sha3_256} or {sha3_384} prefix)");
  }
  // The MAC covers the whole message, its "{name}" prefix included.
  if (name.empty()) {
    auto mac = crypto::hmac("md5", key, m.data(), m.size());
    if (mac) return *mac;  // the legacy answer: the raw 16-byte HMAC-MD5
    name = "sha256";       // MD5 unavailable (FIPS): answer in the modern form, as CPython does
  }
  auto mac = crypto::hmac(name, key, m.data(), m.size());
  if (!mac) fail("HMAC-" + name + " is not available on this platform");
  byte_vector out;
  out.reserve(name.size() + 2 + mac->size());
  out.push_back('{');
  out.insert(out.end(), name.begin(), name.end());
  out.push_back('}');
  out.insert(out.end(), mac->begin(), mac->end());
  return out;
}

std::optional<std::string> response_problem(std::string_view key, const byte_vector& m,
                                            const byte_vector& response) {
  std::string name;
  std::size_t payload_at = 0;
  if (!split_digest_prefix(response, name, payload_at)) {
    return "the answer (" + std::to_string(response.size()) +
           " bytes) is neither a raw 16-byte HMAC-MD5 nor prefixed with an allowed {digest}";
  }
  if (name.empty()) name = "md5";
  auto expected = crypto::hmac(name, key, m.data(), m.size());
  if (!expected) return "the answer uses HMAC-" + name + ", not available on this platform";
  std::size_t got = response.size() - payload_at;
  if (got != expected->size()) {
    return "the answer's HMAC-" + name + " is " + std::to_string(got) + " bytes, expected " +
           std::to_string(expected->size());
  }
  if (!crypto::constant_time_equal(expected->data(), response.data() + payload_at, got)) {
    return "the answer's HMAC-" + name + " is wrong (different key?)";
  }
  return std::nullopt;
}

namespace {

// The challenger's first step: sends "#CHALLENGE#" + M and returns M. Throws broken_pipe as the
// transport does when the peer is gone.
byte_vector send_challenge(message_transport& t, challenge_form form) {
  byte_vector m;
  if (form == challenge_form::sha256) {
    static constexpr std::string_view kPrefix = "{sha256}";
    m.assign(kPrefix.begin(), kPrefix.end());
    auto random = crypto::random_bytes(kModernRandomLength);
    m.insert(m.end(), random.begin(), random.end());
  } else {
    m = crypto::random_bytes(kLegacyChallengeLength);
  }
  byte_vector challenge(kChallenge.begin(), kChallenge.end());
  challenge.insert(challenge.end(), m.begin(), m.end());
  send(t, challenge);
  return m;
}

// The challenger's second step: receives the answer to M, checks it, and sends the verdict.
void verify_answer(message_transport& t, std::string_view key, const byte_vector& m, deadline d) {
  std::optional<std::string> problem;
  try {
    problem = response_problem(key, m, receive(t, d, "the answer to our challenge"));
  } catch (const npipe::error& e) {
    // A malformed or oversized answer is a wrong answer: say #FAILURE# (CPython says nothing for
    // an oversized one, it just raises). Best effort: the peer may have left already.
    if (e.value() == errc::auth_failed) {
      try {
        send(t, kFailure);
      } catch (const npipe::error&) {
      }
    }
    throw;
  }
  if (problem) {
    try {
      send(t, kFailure);
    } catch (const npipe::error&) {
    }
    fail(*problem);
  }
  send_or_fail(t, kWelcome, "#WELCOME#");
}

// The responder's first step: receives the challenge and sends the answer.
void receive_and_answer(message_transport& t, std::string_view key, deadline d) {
  byte_vector challenge = receive(t, d, "the challenge");
  if (!starts_with(challenge, kChallenge)) fail("the peer's first message is not a #CHALLENGE#");
  byte_vector m(challenge.begin() + static_cast<std::ptrdiff_t>(kChallenge.size()),
                challenge.end());
  send_or_fail(t, make_response(key, m), "the answer");
}

// The responder's second step: the verdict on our answer must be #WELCOME#.
void expect_welcome(message_transport& t, deadline d) {
  byte_vector verdict = receive(t, d, "the verdict on our answer");
  if (!equals(verdict, kWelcome)) {
    fail(equals(verdict, kFailure) ? "the peer rejected our answer (#FAILURE#: different key?)"
                                   : "the peer answered neither #WELCOME# nor #FAILURE#");
  }
}

}  // namespace

void deliver_challenge(message_transport& t, std::string_view key, challenge_form form,
                       deadline d) {
  byte_vector m;
  try {
    m = send_challenge(t, form);
  } catch (const npipe::error& e) {
    if (e.value() != errc::broken_pipe) throw;
    fail(std::string("could not send the challenge: ") + e.message());
  }
  verify_answer(t, key, m, d);
}

void answer_challenge(message_transport& t, std::string_view key, deadline d) {
  receive_and_answer(t, key, d);
  expect_welcome(t, d);
}

deadline handshake_deadline(std::chrono::milliseconds limit, deadline outer) {
  if (outer.is_forever() || outer.is_immediate()) return deadline::after(limit);
  return outer.remaining_ms() < limit.count() ? outer : deadline::after(limit);
}

void check_nothing_owed(const std::optional<owed_listener_handshake>& owed, const char* op) {
  if (owed) {
    throw npipe::error(errc::io_error, std::string(op) +
                                           " before authenticate(): this connection from "
                                           "accept_unauthenticated() has not run its handshake "
                                           "yet");
  }
}

void run_owed(message_transport& t, std::optional<owed_listener_handshake>& owed, deadline d) {
  if (!owed) return;
  // The listener challenges first, then answers (CHAN-AUTH-1).
  listener_handshake(t, owed->key, owed->form, handshake_deadline(owed->timeout, d));
  owed.reset();
}

void listener_handshake(message_transport& t, std::string_view key, challenge_form form,
                        deadline d) {
  deliver_challenge(t, key, form, d);
  answer_challenge(t, key, d);
}

void client_handshake(message_transport& t, std::string_view key, challenge_form form, deadline d) {
  receive_and_answer(t, key, d);
  // Our challenge goes right behind our answer instead of after the listener's #WELCOME#: the
  // same messages in the same order (CHAN-AUTH-1), one round trip less per connection. A listener
  // that rejects our answer closes without reading it; what we then report is its #FAILURE#.
  std::optional<byte_vector> ours;
  try {
    ours = send_challenge(t, form);
  } catch (const npipe::error& e) {
    if (e.value() != errc::broken_pipe) throw;  // gone: its verdict may still be ours to read
  }
  expect_welcome(t, d);
  if (!ours) fail("could not send our challenge: the peer closed the connection");
  verify_answer(t, key, *ours, d);
}

}  // namespace npipe::handshake
