// The reference against the known-answer vectors of spec/vectors/ (both backends: the handshake
// and the header encoding are platform-free). The framing decoder is checked over a real socket in
// posix_vectors_framing_test.cpp. The vectors' bytes are recomputed independently by
// spec/tools/vectors.py and checked against CPython by harness/tests/test_vectors.py.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "common/framing.hpp"
#include "common/handshake.hpp"
#include "npipe/error.hpp"
#include "spec_data.hpp"

namespace {

using json = nlohmann::json;
using byte_vector = std::vector<std::uint8_t>;
namespace hs = npipe::handshake;

byte_vector unhex(const std::string& s) {
  byte_vector out;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoul(s.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::string hex(const byte_vector& b) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (auto c : b) {
    s += digits[c >> 4];
    s += digits[c & 15];
  }
  return s;
}

std::string key_of(const json& doc) {
  byte_vector k = unhex(doc.at("key_hex"));
  return std::string(k.begin(), k.end());
}

// Plays the peer's side of a transcript: hands out its messages in order, records what the
// implementation under test sends, and reports EOF once the script is exhausted.
class scripted_peer : public hs::message_transport {
 public:
  explicit scripted_peer(std::deque<byte_vector> incoming) : incoming_(std::move(incoming)) {}
  void send_message(const std::uint8_t* data, std::size_t n) override {
    sent.emplace_back(data, data + n);
  }
  std::optional<byte_vector> receive_message(std::size_t maxlength, npipe::deadline) override {
    if (incoming_.empty()) return std::nullopt;
    byte_vector m = std::move(incoming_.front());
    incoming_.pop_front();
    if (m.size() > maxlength) throw npipe::error(npipe::errc::message_too_long, "scripted");
    return m;
  }
  std::vector<byte_vector> sent;

 private:
  std::deque<byte_vector> incoming_;
};

const json& framing() {
  static const json doc = json::parse(spec_vectors_framing_json);
  return doc;
}
const json& handshake() {
  static const json doc = json::parse(spec_vectors_handshake_json);
  return doc;
}

}  // namespace

// NPIPE_REQ: CHAN-FRAME-1 CHAN-FRAME-2
TEST(Vectors, HeadersAreEncodedAsTheVectorsSay) {
  int n = 0;
  for (const auto& c : framing().at("cases")) {
    if (c.at("direction") != "encode") continue;
    ++n;
    const auto h = npipe::framing::encode_header(c.at("length").get<std::uint64_t>());
    EXPECT_EQ(hex(byte_vector(h.bytes.begin(), h.bytes.begin() + static_cast<long>(h.size))),
              c.at("header_hex").get<std::string>())
        << c.at("name");
  }
  EXPECT_GE(n, 15);
}

// The client's first half of each transcript in which the client answers in kind: npipe, holding
// the client's key and given the listener's challenge, sends exactly the vector's answer, then
// succeeds on #WELCOME# or fails auth_failed on #FAILURE# (CHAN-AUTH-1, -2, -3, -5).
// NPIPE_REQ: CHAN-AUTH-1 CHAN-AUTH-2 CHAN-AUTH-3 CHAN-AUTH-5
TEST(Vectors, ResponderSendsTheTranscriptsAnswer) {
  int n = 0;
  for (const auto& t : handshake().at("transcripts")) {
    if (t.at("client_answers") != "in kind") continue;
    ++n;
    const byte_vector k = unhex(t.at("client_key_hex"));
    const std::string key(k.begin(), k.end());
    const auto& steps = t.at("steps");
    const byte_vector verdict = unhex(steps.at(2).at("message_hex"));
    scripted_peer peer({unhex(steps.at(0).at("message_hex")), verdict});
    std::optional<npipe::errc> err;
    try {
      hs::answer_challenge(peer, key, npipe::deadline::forever());
    } catch (const npipe::error& e) {
      err = e.value();
    }
    ASSERT_EQ(peer.sent.size(), 1u) << t.at("name");
    EXPECT_EQ(hex(peer.sent.at(0)), steps.at(1).at("message_hex").get<std::string>())
        << t.at("name");
    if (std::string(verdict.begin(), verdict.end()) == "#WELCOME#") {
      EXPECT_FALSE(err) << t.at("name");
    } else {
      ASSERT_TRUE(err) << t.at("name");
      EXPECT_EQ(*err, npipe::errc::auth_failed) << t.at("name");
    }
  }
  EXPECT_GE(n, 4);
}

// On Windows a {sha3_*} answer may be refused where BCrypt has no SHA-3 (CHAN-AUTH-12 (b); Wine
// 8.0 has none): then the refusal must say so, and every other vector still holds.
// NPIPE_REQ: CHAN-AUTH-4 CHAN-AUTH-12
TEST(Vectors, VerifierAcceptsExactlyTheVectorsAnswers) {
  const std::string key = key_of(handshake());
  for (const auto& v : handshake().at("verifier")) {
    const auto problem =
        hs::response_problem(key, unhex(v.at("challenge_hex")), unhex(v.at("answer_hex")));
#ifdef _WIN32
    if (problem && v.at("name").get<std::string>().find("{sha3_") == 0 &&
        problem->find("not available on this platform") != std::string::npos) {
      continue;
    }
#endif
    EXPECT_EQ(!problem.has_value(), v.at("result") == "ok")
        << v.at("name") << (problem ? ": " + *problem : std::string());
  }
}

// NPIPE_REQ: CHAN-AUTH-3 CHAN-AUTH-6 CHAN-AUTH-11
TEST(Vectors, ResponderAnswersOrRefusesEachChallengeAsTheVectorsSay) {
  const std::string key = key_of(handshake());
  for (const auto& r : handshake().at("responder")) {
    scripted_peer peer({unhex(r.at("challenge_message_hex"))});
    std::optional<npipe::errc> err;
    try {
      hs::answer_challenge(peer, key, npipe::deadline::forever());
    } catch (const npipe::error& e) {
      err = e.value();
    }
    if (r.at("result") == "ok") {
      ASSERT_FALSE(peer.sent.empty()) << r.at("name");
      EXPECT_EQ(hex(peer.sent.at(0)), r.at("answer_hex").get<std::string>()) << r.at("name");
      // The script then ends without #WELCOME#: the responder must not take that as success.
      ASSERT_TRUE(err) << r.at("name");
    } else {
      EXPECT_TRUE(peer.sent.empty()) << r.at("name") << ": the responder sent something";
      ASSERT_TRUE(err) << r.at("name");
      EXPECT_EQ(*err, npipe::errc::auth_failed) << r.at("name");
    }
  }
}
