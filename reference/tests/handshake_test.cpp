// The multiprocessing.connection authentication handshake, platform-free: its pieces against
// known HMAC values, and whole handshakes between two threads over an in-memory transport.
// (The same handshake between real processes, and against CPython, is in channel_auth_test.cpp,
// posix_channel_wire_test.cpp and posix_channel_cpython_test.cpp.)
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/crypto.hpp"
#include "common/handshake.hpp"
#include "npipe/error.hpp"
#include "support.hpp"

namespace {

using namespace std::chrono_literals;
using byte_vector = std::vector<std::uint8_t>;
namespace hs = npipe::handshake;

byte_vector bytes_of(std::string_view s) {
  return byte_vector(s.begin(), s.end());
}

byte_vector from_hex(std::string_view hex) {
  byte_vector out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

byte_vector concat(byte_vector a, const byte_vector& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

byte_vector mac(std::string_view name, std::string_view key, const byte_vector& m) {
  auto r = npipe::crypto::hmac(name, key, m.data(), m.size());
  EXPECT_TRUE(r) << name;
  return r ? *r : byte_vector{};
}

// SHA-3 is optional where the platform's crypto lacks it (CHAN-AUTH-12: BCrypt on Wine 8, Windows
// before 11 24H2); every other digest of the five is required everywhere.
bool platform_has_digest(std::string_view name) {
  const std::uint8_t probe = 0;
  return npipe::crypto::hmac(name, "k", &probe, 1).has_value();
}

bool digest_is_optional(std::string_view name) {
  return name.substr(0, 4) == "sha3";
}

// A modern challenge message for digest `name`: "{name}" + 40 bytes.
byte_vector modern_message(std::string_view name) {
  return concat(bytes_of("{" + std::string(name) + "}"), byte_vector(40, 0x5a));
}

npipe::errc error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const npipe::error& e) {
    return e.value();
  }
  ADD_FAILURE() << "no npipe::error was thrown";
  return npipe::errc::io_error;
}

// One direction of an in-memory connection.
struct message_queue {
  std::mutex m;
  std::condition_variable cv;
  std::deque<byte_vector> messages;
  bool closed = false;
};

// One end of an in-memory message connection; records what it sent.
class memory_end : public hs::message_transport {
 public:
  memory_end(std::shared_ptr<message_queue> in, std::shared_ptr<message_queue> out)
      : in_(std::move(in)), out_(std::move(out)) {}
  ~memory_end() override { close(); }

  void send_message(const std::uint8_t* data, std::size_t n) override {
    std::lock_guard<std::mutex> lock(out_->m);
    if (out_->closed) throw npipe::error(npipe::errc::broken_pipe, "memory peer closed");
    out_->messages.emplace_back(data, data + n);
    sent.emplace_back(data, data + n);
    out_->cv.notify_all();
  }

  std::optional<byte_vector> receive_message(std::size_t maxlength, npipe::deadline d) override {
    std::unique_lock<std::mutex> lock(in_->m);
    while (in_->messages.empty() && !in_->closed) {
      if (d.expired()) throw npipe::error(npipe::errc::timeout, "memory receive timed out");
      in_->cv.wait_for(lock, std::chrono::milliseconds(d.is_forever() ? 1000 : d.remaining_ms()));
    }
    if (in_->messages.empty()) return std::nullopt;
    if (in_->messages.front().size() > maxlength) {
      throw npipe::error(npipe::errc::message_too_long, "memory message too long");
    }
    byte_vector m = std::move(in_->messages.front());
    in_->messages.pop_front();
    return m;
  }

  // Closes both directions, as closing a socket does.
  void close() {
    for (auto* q : {in_.get(), out_.get()}) {
      std::lock_guard<std::mutex> lock(q->m);
      q->closed = true;
      q->cv.notify_all();
    }
  }

  std::vector<byte_vector> sent;

 private:
  std::shared_ptr<message_queue> in_, out_;
};

struct memory_pair {
  std::shared_ptr<message_queue> a_to_b = std::make_shared<message_queue>();
  std::shared_ptr<message_queue> b_to_a = std::make_shared<message_queue>();
  memory_end a{b_to_a, a_to_b};
  memory_end b{a_to_b, b_to_a};
};

// Runs the listener's side (deliver, then answer) on a thread and the client's side (answer,
// then deliver) here; returns each side's error, io_error standing for "none".
struct outcome {
  std::optional<npipe::errc> listener, client;
};
outcome run_handshake(memory_pair& p, std::string_view listener_key, npipe::challenge_form lform,
                      std::string_view client_key, npipe::challenge_form cform) {
  outcome o;
  auto d = npipe::deadline::after(5s);
  std::thread listener([&] {
    try {
      hs::deliver_challenge(p.a, listener_key, lform, d);
      hs::answer_challenge(p.a, listener_key, d);
    } catch (const npipe::error& e) {
      o.listener = e.value();
      p.a.close();  // as a listener closes a connection that failed its handshake
    }
  });
  try {
    hs::answer_challenge(p.b, client_key, d);
    hs::deliver_challenge(p.b, client_key, cform, d);
  } catch (const npipe::error& e) {
    o.client = e.value();
    p.b.close();
  }
  listener.join();
  return o;
}

// NPIPE_REQ: CHAN-AUTH-4 CHAN-AUTH-12
TEST(Handshake, HmacOfEveryAllowedDigestMatchesKnownValues) {
  // RFC 2202 / RFC 4231 test case 2 (md5, sha256); the others computed with CPython's hmac.
  const byte_vector data = bytes_of("what do ya want for nothing?");
  EXPECT_EQ(mac("md5", "Jefe", data), from_hex("750c783e6ab0b503eaa86e310a5db738"));
  EXPECT_EQ(mac("sha256", "Jefe", data),
            from_hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
  EXPECT_EQ(
      mac("sha384", "Jefe", data),
      from_hex("af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2"
               "c78b3239ecfab21649"));
  if (platform_has_digest("sha3_256")) {
    EXPECT_EQ(mac("sha3_256", "Jefe", data),
              from_hex("c7d4072e788877ae3596bbb0da73b887c9171f93095b294ae857fbe2645e1ba5"));
  }
  if (platform_has_digest("sha3_384")) {
    EXPECT_EQ(
        mac("sha3_384", "Jefe", data),
        from_hex("f1101f8cbf9766fd6764d2ed61903f21ca9b18f57cf3e1a23ca13508a93243ce48c045dc007f26"
                 "a21b3f5e0e9df4c20a"));
  }
#ifndef _WIN32
  // POSIX builds use OpenSSL, which has SHA-3: there it is not optional.
  EXPECT_TRUE(platform_has_digest("sha3_256"));
  EXPECT_TRUE(platform_has_digest("sha3_384"));
#endif
  EXPECT_FALSE(npipe::crypto::hmac("sha512", "Jefe", data.data(), data.size()));
  EXPECT_FALSE(npipe::crypto::hmac("SHA256", "Jefe", data.data(), data.size()));
}

// NPIPE_REQ: CHAN-AUTH-2
TEST(Handshake, LegacyChallengeIsAnsweredWithTheRawMd5) {
  const byte_vector m(20, 0x11);
  EXPECT_EQ(hs::make_response("key", m), mac("md5", "key", m));
  EXPECT_EQ(hs::make_response("key", m).size(), 16u);
}

// NPIPE_REQ: CHAN-AUTH-3
TEST(Handshake, ModernChallengeIsAnsweredWithPrefixedMacOverTheWholeMessage) {
  for (std::string_view name : {"md5", "sha256", "sha384", "sha3_256", "sha3_384"}) {
    const byte_vector m = modern_message(name);
    if (digest_is_optional(name) && !platform_has_digest(name)) {
      // CHAN-AUTH-12 (b): refused, never answered with something else.
      EXPECT_EQ(error_of([&] { hs::make_response("k", m); }), npipe::errc::auth_failed) << name;
      continue;
    }
    const byte_vector expected = concat(bytes_of("{" + std::string(name) + "}"), mac(name, "k", m));
    EXPECT_EQ(hs::make_response("k", m), expected) << name;
  }
}

// NPIPE_REQ: CHAN-AUTH-3
TEST(Handshake, ResponderRefusesChallengesItCannotAnswer) {
  // Shorter than 20 bytes; no prefix and not 20 bytes; a digest outside the allowed five; a
  // '}' too far away for CPython's find(b'}', 1, 10).
  for (const byte_vector& m : {byte_vector(19, 1), byte_vector(21, 1), modern_message("sha512"),
                               modern_message("sha3_256x"), modern_message("")}) {
    EXPECT_EQ(error_of([&] { hs::make_response("k", m); }), npipe::errc::auth_failed);
  }
}

// NPIPE_REQ: CHAN-AUTH-4
TEST(Handshake, VerifierAcceptsRawMd5AndEveryAllowedPrefixedAnswer) {
  const byte_vector m = modern_message("sha256");
  EXPECT_EQ(hs::response_problem("k", m, mac("md5", "k", m)), std::nullopt);
  for (std::string_view name : {"md5", "sha256", "sha384", "sha3_256", "sha3_384"}) {
    if (digest_is_optional(name) && !platform_has_digest(name)) {
      // CHAN-AUTH-12 (b): an answer the platform cannot check is refused.
      byte_vector answer = concat(bytes_of("{" + std::string(name) + "}"), byte_vector(32, 1));
      EXPECT_TRUE(hs::response_problem("k", m, answer)) << name;
      continue;
    }
    byte_vector answer = concat(bytes_of("{" + std::string(name) + "}"), mac(name, "k", m));
    EXPECT_EQ(hs::response_problem("k", m, answer), std::nullopt) << name;
  }
  const byte_vector legacy(20, 7);
  EXPECT_EQ(hs::response_problem("k", legacy, mac("md5", "k", legacy)), std::nullopt);
}

// NPIPE_REQ: CHAN-AUTH-5
TEST(Handshake, VerifierRejectsWrongKeyTruncatedAndMalformedAnswers) {
  const byte_vector m = modern_message("sha256");
  const byte_vector good = concat(bytes_of("{sha256}"), mac("sha256", "k", m));
  EXPECT_TRUE(hs::response_problem("other", m, good));
  byte_vector truncated(good.begin(), good.end() - 1);
  EXPECT_TRUE(hs::response_problem("k", m, truncated));
  byte_vector longer = concat(good, byte_vector{0});
  EXPECT_TRUE(hs::response_problem("k", m, longer));
  byte_vector flipped = good;
  flipped.back() ^= 1;
  EXPECT_TRUE(hs::response_problem("k", m, flipped));
  // A raw MD5 padded to 20 bytes, an unknown digest, no prefix at all, empty.
  EXPECT_TRUE(hs::response_problem("k", m, concat(mac("md5", "k", m), byte_vector(4, 0))));
  EXPECT_TRUE(hs::response_problem("k", m, concat(bytes_of("{sha512}"), byte_vector(64, 0))));
  EXPECT_TRUE(hs::response_problem("k", m, mac("sha256", "k", m)));
  EXPECT_TRUE(hs::response_problem("k", m, {}));
  // The problem never carries the digest bytes.
  auto why = hs::response_problem("k", m, flipped);
  ASSERT_TRUE(why);
  EXPECT_EQ(why->find(std::string(flipped.begin() + 8, flipped.end())), std::string::npos);
}

// NPIPE_REQ: CHAN-AUTH-1
// NPIPE_REQ: CHAN-AUTH-2
// NPIPE_REQ: CHAN-AUTH-3
TEST(Handshake, BothSidesSucceedInEveryCombinationOfForms) {
  npipe::test::watchdog dog(20s, "handshake combinations");
  for (auto lform : {npipe::challenge_form::sha256, npipe::challenge_form::legacy_md5}) {
    for (auto cform : {npipe::challenge_form::sha256, npipe::challenge_form::legacy_md5}) {
      memory_pair p;
      outcome o = run_handshake(p, "secret", lform, "secret", cform);
      EXPECT_FALSE(o.listener) << static_cast<int>(*o.listener);
      EXPECT_FALSE(o.client) << static_cast<int>(*o.client);
      // Listener: its challenge, its verdict on the client's answer, its own answer.
      ASSERT_EQ(p.a.sent.size(), 3u);
      ASSERT_EQ(p.b.sent.size(), 3u);
      const byte_vector& challenge = p.a.sent[0];
      ASSERT_GE(challenge.size(), 11u);
      EXPECT_EQ(byte_vector(challenge.begin(), challenge.begin() + 11), bytes_of("#CHALLENGE#"));
      EXPECT_EQ(challenge.size(), lform == npipe::challenge_form::sha256 ? 11u + 8 + 40 : 11u + 20);
      EXPECT_EQ(p.a.sent[1], bytes_of("#WELCOME#"));
      EXPECT_EQ(p.a.sent[2].size(), cform == npipe::challenge_form::sha256 ? 8u + 32 : 16u);
      // Client: its answer first, then its own challenge, then its verdict.
      EXPECT_EQ(p.b.sent[0].size(), lform == npipe::challenge_form::sha256 ? 8u + 32 : 16u);
      EXPECT_EQ(byte_vector(p.b.sent[1].begin(), p.b.sent[1].begin() + 11),
                bytes_of("#CHALLENGE#"));
      EXPECT_EQ(p.b.sent[2], bytes_of("#WELCOME#"));
    }
  }
}

// NPIPE_REQ: CHAN-AUTH-5
TEST(Handshake, WrongKeyFailsBothSidesAfterFailureIsSent) {
  npipe::test::watchdog dog(10s, "wrong key handshake");
  memory_pair p;
  outcome o = run_handshake(p, "secret", npipe::challenge_form::sha256, "guess",
                            npipe::challenge_form::sha256);
  EXPECT_EQ(o.listener, npipe::errc::auth_failed);
  EXPECT_EQ(o.client, npipe::errc::auth_failed);
  ASSERT_EQ(p.a.sent.size(), 2u);
  EXPECT_EQ(p.a.sent[1], bytes_of("#FAILURE#"));
}

// NPIPE_REQ: CHAN-AUTH-6
TEST(Handshake, OversizedMessagesAreAuthFailed) {
  npipe::test::watchdog dog(10s, "oversized handshake message");
  {
    memory_pair p;  // an oversized challenge
    byte_vector big = concat(bytes_of("#CHALLENGE#"), byte_vector(246, 1));  // 257 bytes
    p.a.send_message(big.data(), big.size());
    EXPECT_EQ(error_of([&] { hs::answer_challenge(p.b, "k", npipe::deadline::after(5s)); }),
              npipe::errc::auth_failed);
  }
  {
    memory_pair p;  // an oversized answer: refused, and #FAILURE# sent
    byte_vector big(257, '{');
    p.b.send_message(big.data(), big.size());
    EXPECT_EQ(error_of([&] {
                hs::deliver_challenge(p.a, "k", npipe::challenge_form::sha256,
                                      npipe::deadline::after(5s));
              }),
              npipe::errc::auth_failed);
    EXPECT_EQ(p.a.sent.back(), bytes_of("#FAILURE#"));
  }
  {
    memory_pair p;  // exactly 256 bytes is within the limit (then wrong for other reasons)
    byte_vector edge = concat(bytes_of("#CHALLENGE#"), byte_vector(245, 1));
    p.a.send_message(edge.data(), edge.size());
    try {
      hs::answer_challenge(p.b, "k", npipe::deadline::after(5s));
      ADD_FAILURE() << "a 245-byte unprefixed challenge must not be answered";
    } catch (const npipe::error& e) {
      EXPECT_EQ(e.value(), npipe::errc::auth_failed);
      EXPECT_EQ(std::string(e.message()).find("longer than"), std::string::npos) << e.what();
    }
  }
}

// NPIPE_REQ: CHAN-AUTH-5
TEST(Handshake, PeerThatClosesOrSendsGarbageIsAuthFailed) {
  npipe::test::watchdog dog(10s, "garbage handshake");
  {
    memory_pair p;
    p.a.close();
    EXPECT_EQ(error_of([&] { hs::answer_challenge(p.b, "k", npipe::deadline::after(5s)); }),
              npipe::errc::auth_failed);
  }
  {
    memory_pair p;
    byte_vector hello = bytes_of("hello, not a challenge");
    p.a.send_message(hello.data(), hello.size());
    EXPECT_EQ(error_of([&] { hs::answer_challenge(p.b, "k", npipe::deadline::after(5s)); }),
              npipe::errc::auth_failed);
  }
  {
    memory_pair p;  // a verdict that is neither #WELCOME# nor #FAILURE#
    byte_vector challenge = concat(bytes_of("#CHALLENGE#"), byte_vector(20, 3));
    byte_vector verdict = bytes_of("#WELCOME");
    p.a.send_message(challenge.data(), challenge.size());
    p.a.send_message(verdict.data(), verdict.size());
    EXPECT_EQ(error_of([&] { hs::answer_challenge(p.b, "k", npipe::deadline::after(5s)); }),
              npipe::errc::auth_failed);
  }
}

// NPIPE_REQ: CHAN-AUTH-8
TEST(Handshake, StalledPeerGivesTimeoutByTheDeadline) {
  npipe::test::watchdog dog(10s, "stalled handshake");
  memory_pair p;
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(error_of([&] {
              hs::deliver_challenge(p.a, "k", npipe::challenge_form::sha256,
                                    npipe::deadline::after(200ms));
            }),
            npipe::errc::timeout);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 5s);
}

}  // namespace
