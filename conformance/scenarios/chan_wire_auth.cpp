// chan_wire_auth.cpp: the handshake byte by byte, with the driver as the raw peer: the challenge
// forms, every answer form a verifier must accept, wrong and oversized answers, a stalled peer,
// and the client's order (spec/npipe.md, "Channel profile: authentication").
#include <chrono>
#include <utility>
#include <vector>

#include "chan_support.hpp"
#include "raw_peer.hpp"

namespace npipe::conformance {
namespace {

using namespace support;
using std::chrono::milliseconds;

const std::string kKey = "wire key";
const std::string kChallenge = "#CHALLENGE#";
const std::string kWelcome = "#WELCOME#";
const std::string kFailure = "#FAILURE#";

milliseconds step(scene& s) {
  return s.options().step_timeout;
}

// Every scenario here: the driver speaks the wire itself, through AF_UNIX.
const scenario_needs kRawPeer = needs::posix("the driver's raw AF_UNIX peer");

std::string frame_from(scene& s, int fd, const std::string& what) {
  auto m = raw::recv_frame(s, fd, step(s));
  if (!m) s.fail("the agent closed the connection where " + what + " was due");
  return *m;
}

// The answer to `message` (what follows #CHALLENGE#) in the given form: "raw-md5" for the
// legacy 16 bytes, otherwise "{name}" + HMAC-name over the whole message.
std::string answer(const std::string& form, const std::string& message) {
  if (form == "raw-md5") return raw::hmac("md5", kKey, message);
  return "{" + form + "}" + raw::hmac(form, kKey, message);
}

struct server_side {
  std::string listener;
  call accept;
  int fd;
};

// The agent listens with the key and accepts; the driver connects.
server_side agent_listens(scene& s, const std::string& leaf, const char* challenge,
                          json accept_extra = json::object()) {
  std::string a = s.path(leaf);
  json listen = {{"op", "listen"}, {"address", a}, {"authkey", b64(kKey)}};
  if (challenge) listen["challenge"] = challenge;
  std::string l = handle_of(s, s.agent1().ok(listen));
  int fd = raw::connect(s, a, step(s));
  json acc = {{"op", "accept"}, {"handle", l}};
  for (auto& [k, v] : accept_extra.items())
    acc[k] = v;
  return {l, s.agent1().start(acc), fd};
}

// The driver's half after its answer was welcomed: challenge the agent and check its answer.
void challenge_agent(scene& s, int fd, const std::string& form) {
  std::string message = form == "md5" ? raw::random_bytes(20) : "{sha256}" + raw::random_bytes(40);
  raw::send(s, fd, raw::frame(kChallenge + message), step(s));
  std::string got = frame_from(s, fd, "the answer to the driver's challenge");
  std::string want = answer(form == "md5" ? "raw-md5" : "sha256", message);
  s.expect(got == want, "the agent answered the " + form + " challenge wrongly (" +
                            std::to_string(got.size()) + " bytes)");
  raw::send(s, fd, raw::frame(kWelcome), step(s));
}

// The listener's full handshake, the driver answering in `answer_form`.
void listener_handshake(scene& s, const char* challenge, const std::string& answer_form,
                        const std::string& leaf = "sock") {
  auto side = agent_listens(s, leaf, challenge);
  std::string m = frame_from(s, side.fd, "the challenge");
  s.expect(m.rfind(kChallenge, 0) == 0, "the listener's first message is not #CHALLENGE#");
  std::string message = m.substr(kChallenge.size());
  if (std::string(challenge) == "md5")
    s.expect(
        message.size() == 20,
        "the legacy challenge must carry 20 random bytes, not " + std::to_string(message.size()),
        {"CHAN-AUTH-2"});
  else
    s.expect(message.rfind("{sha256}", 0) == 0 && message.size() == 8 + 40,
             "the modern challenge must be {sha256} + 40 random bytes", {"CHAN-AUTH-3"});
  raw::send(s, side.fd, raw::frame(answer(answer_form, message)), step(s));
  s.expect(frame_from(s, side.fd, "#WELCOME#") == kWelcome,
           "a correct " + answer_form + " answer was not welcomed", {"CHAN-AUTH-4"});
  challenge_agent(s, side.fd, std::string(challenge) == "md5" ? "md5" : "sha256");
  std::string conn = handle_of(s, side.accept.ok());
  s.agent1().ok({{"op", "send"}, {"handle", conn}, {"data", b64("in")}});
  auto hello = raw::recv_frame(s, side.fd, step(s));
  s.expect(hello && *hello == "in", "no message after the handshake");
}

}  // namespace

NPIPE_SCENARIO(chan_wire_auth, listener_sha256, "CHAN-AUTH-1 CHAN-AUTH-3", "channel", "agent",
               kRawPeer, "The listener challenges with {sha256} + 40 bytes first, then answers") {
  listener_handshake(s, "sha256", "sha256");
}

NPIPE_SCENARIO(chan_wire_auth, listener_md5, "CHAN-AUTH-1 CHAN-AUTH-2", "channel", "agent",
               kRawPeer,
               "The legacy listener challenges with 20 bytes and takes the raw HMAC-MD5") {
  listener_handshake(s, "md5", "raw-md5");
}

NPIPE_SCENARIO(chan_wire_auth, verifier_accepts_every_digest, "CHAN-AUTH-4", "channel", "agent",
               kRawPeer,
               "The verifier accepts raw MD5 and {md5} {sha256} {sha384} {sha3_256} {sha3_384} "
               "answers") {
  for (const char* form : {"raw-md5", "md5", "sha256", "sha384", "sha3_256", "sha3_384"})
    listener_handshake(s, "sha256", form, std::string("sock-") + form);
}

NPIPE_SCENARIO(chan_wire_auth, wrong_answer_refused, "CHAN-AUTH-5", "channel", "agent", kRawPeer,
               "A wrong answer gets #FAILURE# and accept fails with auth_failed") {
  auto side = agent_listens(s, "sock", nullptr);
  std::string m = frame_from(s, side.fd, "the challenge");
  raw::send(s, side.fd, raw::frame("{sha256}" + std::string(32, '\0')), step(s));
  auto reply = raw::recv_frame(s, side.fd, step(s));
  s.expect(reply && *reply == kFailure, "a wrong answer was not told #FAILURE#");
  side.accept.fails("auth_failed");
}

NPIPE_SCENARIO(chan_wire_auth, oversized_answer_refused, "CHAN-AUTH-6", "channel", "agent",
               kRawPeer,
               "Handshake messages over 256 bytes give auth_failed; a 1 GiB claim is not awaited") {
  auto side = agent_listens(s, "sock", nullptr);
  frame_from(s, side.fd, "the challenge");
  raw::send(s, side.fd, raw::frame(std::string(300, 'x')), step(s));
  side.accept.fails("auth_failed");
  // A header claiming 1 GiB with nothing behind it: refused from the header alone.
  int fd2 = raw::connect(s, s.path("sock"), step(s));
  call acc2 = s.agent1().start({{"op", "accept"}, {"handle", side.listener}});
  frame_from(s, fd2, "the challenge");
  raw::send(s, fd2, raw::header32(1 << 30), step(s));
  acc2.fails("auth_failed");
}

NPIPE_SCENARIO(chan_wire_auth, stalled_peer_times_out, "CHAN-AUTH-8", "channel", "agent", kRawPeer,
               "A client that connects and never answers makes accept fail with timeout") {
  auto side = agent_listens(s, "sock", nullptr, {{"timeout_ms", 500}});
  side.accept.fails("timeout");
}

NPIPE_SCENARIO(chan_wire_auth, client_answers_first, "CHAN-AUTH-1 CHAN-AUTH-3", "channel", "agent",
               kRawPeer, "The client answers the listener's challenge first, then challenges") {
  std::string a = s.path("sock");
  int l = raw::listen(s, a);
  call c = s.agent1().start({{"op", "connect"}, {"address", a}, {"authkey", b64(kKey)}});
  int fd = raw::accept(s, l, step(s));
  challenge_agent(s, fd, "sha256");
  std::string m = frame_from(s, fd, "the client's challenge");
  s.expect(m.rfind(kChallenge, 0) == 0, "after being welcomed the client must challenge");
  std::string message = m.substr(kChallenge.size());
  s.expect(message.rfind("{sha256}", 0) == 0 && message.size() == 8 + 40,
           "the client's default challenge must be {sha256} + 40 random bytes");
  raw::send(s, fd, raw::frame(answer("sha256", message)), step(s));
  s.expect(frame_from(s, fd, "#WELCOME#") == kWelcome, "the client refused a correct answer");
  std::string conn = handle_of(s, c.ok());
  s.agent1().ok({{"op", "send"}, {"handle", conn}, {"data", b64("up")}});
  auto up = raw::recv_frame(s, fd, step(s));
  s.expect(up && *up == "up", "no message after the client's handshake");
}

}  // namespace npipe::conformance

namespace npipe::conformance {

NPIPE_SCENARIO(chan_wire_auth, bad_challenges_refused, "CHAN-AUTH-11", "channel", "agent", kRawPeer,
               "A challenge without #CHALLENGE#, too short, or naming an unknown digest gives "
               "auth_failed") {
  const std::string bad[] = {"#HELLO#" + raw::random_bytes(20),
                             "#CHALLENGE#" + raw::random_bytes(10),
                             "#CHALLENGE#{whirlpool}" + raw::random_bytes(40)};
  int n = 0;
  for (const auto& challenge : bad) {
    std::string a = s.path("sock" + std::to_string(++n));
    int l = raw::listen(s, a);
    call c = s.agent1().start({{"op", "connect"}, {"address", a}, {"authkey", b64("k")}});
    int fd = raw::accept(s, l, s.options().step_timeout);
    raw::send(s, fd, raw::frame(challenge), s.options().step_timeout);
    c.fails("auth_failed");
    s.close_fd(fd);
  }
}

}  // namespace npipe::conformance

namespace npipe::conformance {
namespace {

// The agent connects with the key to the driver's listener; the driver challenges it ({sha256})
// and returns its answer. The connect is still in flight.
struct client_side {
  call connect;
  int fd;
  std::string answer;
};

client_side agent_connects(scene& s, const std::string& leaf) {
  std::string a = s.path(leaf);
  int l = raw::listen(s, a);
  call c = s.agent1().start({{"op", "connect"}, {"address", a}, {"authkey", b64(kKey)}});
  int fd = raw::accept(s, l, step(s));
  s.close_fd(l);
  std::string message = "{sha256}" + raw::random_bytes(40);
  raw::send(s, fd, raw::frame(kChallenge + message), step(s));
  std::string got = frame_from(s, fd, "the answer to the driver's challenge");
  return {c, fd, got};
}

// The answer every verifier accepts for `message`: {sha256} for a {sha256} challenge, else the
// raw HMAC-MD5 (CHAN-AUTH-2..4; what CPython 3.11 and older verify).
std::string right_answer(const std::string& message) {
  return answer(message.rfind("{sha256}", 0) == 0 ? "sha256" : "raw-md5", message);
}

// Answers that a verifier must refuse (CHAN-AUTH-4: a MAC of the wrong length fails), each
// built from the right answer to `message`.
std::vector<std::pair<std::string, std::string>> wrong_answers(const std::string& message) {
  std::string md5 = raw::hmac("md5", kKey, message);
  std::string sha = raw::hmac("sha256", kKey, message);
  return {{"an empty answer", ""},
          {"the raw HMAC-MD5 cut to 15 bytes", md5.substr(0, 15)},
          {"the raw HMAC-MD5 plus a byte (17 bytes)", md5 + "x"},
          {"{sha256} with no MAC", "{sha256}"},
          {"{sha256} + the MAC cut to 31 bytes", "{sha256}" + sha.substr(0, 31)},
          {"{sha256} + the MAC cut to 1 byte", "{sha256}" + sha.substr(0, 1)},
          {"{sha256} + the MAC plus a byte", "{sha256}" + sha + "x"},
          {"{md5} + the MD5 cut to 15 bytes", "{md5}" + md5.substr(0, 15)},
          {"{sha256} + the HMAC-MD5 (the wrong digest's length)", "{sha256}" + md5}};
}

}  // namespace

NPIPE_SCENARIO(chan_wire_auth, verifier_refuses_wrong_length_macs, "CHAN-AUTH-4 CHAN-AUTH-5",
               "channel", "agent", kRawPeer,
               "The listener refuses empty, truncated and over-long answers with #FAILURE#, and "
               "accept fails with auth_failed each time") {
  std::string a = s.path("sock");
  std::string l =
      handle_of(s, s.agent1().ok({{"op", "listen"}, {"address", a}, {"authkey", b64(kKey)}}));
  for (std::size_t k = 0;; ++k) {
    int fd = raw::connect(s, a, step(s));
    call acc = s.agent1().start({{"op", "accept"}, {"handle", l}});
    std::string m = frame_from(s, fd, "the challenge");
    s.expect(m.rfind(kChallenge, 0) == 0, "the listener's first message is not #CHALLENGE#");
    auto answers = wrong_answers(m.substr(kChallenge.size()));
    if (k >= answers.size()) {
      // The listener is still usable: a right answer after all those wrong ones is welcomed.
      raw::send(s, fd, raw::frame(right_answer(m.substr(kChallenge.size()))), step(s));
      s.expect(frame_from(s, fd, "#WELCOME#") == kWelcome, "a right answer was not welcomed");
      challenge_agent(s, fd, "md5");
      acc.ok();
      return;
    }
    raw::send(s, fd, raw::frame(answers[k].second), step(s));
    auto verdict = raw::recv_frame(s, fd, step(s));
    s.expect(verdict && *verdict == kFailure,
             answers[k].first + " was not told #FAILURE#" +
                 (verdict ? " (got " + std::to_string(verdict->size()) + " bytes)" : " (EOF)"));
    acc.fails("auth_failed");
    s.close_fd(fd);
  }
}

NPIPE_SCENARIO(chan_wire_auth, client_verifier_refuses_wrong_answers, "CHAN-AUTH-4 CHAN-AUTH-5",
               "channel", "agent", kRawPeer,
               "In the mutual leg the client refuses wrong answers to its challenge with "
               "#FAILURE#, and its connect fails with auth_failed") {
  for (std::size_t k = 0;; ++k) {
    auto c = agent_connects(s, "sock" + std::to_string(k));
    raw::send(s, c.fd, raw::frame(kWelcome), step(s));
    std::string m = frame_from(s, c.fd, "the client's challenge");
    s.expect(m.rfind(kChallenge, 0) == 0, "after being welcomed the client must challenge");
    auto answers = wrong_answers(m.substr(kChallenge.size()));
    if (k >= answers.size()) {
      // The same client with a right answer gets in: only the wrong ones were refused.
      raw::send(s, c.fd, raw::frame(right_answer(m.substr(kChallenge.size()))), step(s));
      s.expect(frame_from(s, c.fd, "#WELCOME#") == kWelcome, "the client refused a right answer");
      c.connect.ok();
      return;
    }
    raw::send(s, c.fd, raw::frame(answers[k].second), step(s));
    auto verdict = raw::recv_frame(s, c.fd, step(s));
    s.expect(verdict && *verdict == kFailure,
             answers[k].first + " to the client's challenge was not told #FAILURE#");
    c.connect.fails("auth_failed");
    s.close_fd(c.fd);
  }
}

NPIPE_SCENARIO(chan_wire_auth, client_refuses_a_verdict_not_welcome, "CHAN-AUTH-5", "channel",
               "agent", kRawPeer,
               "A client whose answer gets #FAILURE#, or any verdict but #WELCOME#, fails with "
               "auth_failed") {
  const std::string verdicts[] = {kFailure, "#WELCOME", "#WELCOME#!", "welcome", "", "#welcome#"};
  int n = 0;
  for (const auto& v : verdicts) {
    auto c = agent_connects(s, "sock" + std::to_string(++n));
    raw::send(s, c.fd, raw::frame(v), step(s));
    call& connect = c.connect;
    auto r = connect.who().poll_reply(step(s));
    if (!r) {
      connect.who().kill();
      s.fail("the verdict \"" + v + "\" left the client waiting");
    }
    s.expect(!(*r)["ok"].get<bool>() && r->value("error", std::string()) == "auth_failed",
             "the verdict \"" + v + "\" got " + r->dump() + ", not auth_failed");
    s.close_fd(c.fd);
  }
}

NPIPE_SCENARIO(chan_wire_auth, listener_refuses_a_verdict_not_welcome, "CHAN-AUTH-5 CHAN-ACCEPT-3",
               "channel", "agent", kRawPeer,
               "A listener whose answer in the mutual leg gets #FAILURE#, or any verdict but "
               "#WELCOME#, fails accept with auth_failed and stays usable") {
  std::string a = s.path("sock");
  std::string l =
      handle_of(s, s.agent1().ok({{"op", "listen"}, {"address", a}, {"authkey", b64(kKey)}}));
  const std::string verdicts[] = {kFailure, "#WELCOME", "#WELCOME#!", "", "#FAILURE"};
  for (const auto& v : verdicts) {
    int fd = raw::connect(s, a, step(s));
    call acc = s.agent1().start({{"op", "accept"}, {"handle", l}});
    std::string m = frame_from(s, fd, "the challenge");
    raw::send(s, fd, raw::frame(right_answer(m.substr(kChallenge.size()))), step(s));
    s.expect(frame_from(s, fd, "#WELCOME#") == kWelcome, "a right answer was not welcomed");
    raw::send(s, fd, raw::frame(kChallenge + raw::random_bytes(20)), step(s));
    frame_from(s, fd, "the listener's answer");
    raw::send(s, fd, raw::frame(v), step(s));
    auto r = acc.who().poll_reply(step(s));
    if (!r) {
      acc.who().kill();
      s.fail("the verdict \"" + v + "\" in the mutual leg left accept waiting");
    }
    s.expect(!(*r)["ok"].get<bool>() && r->value("error", std::string()) == "auth_failed",
             "the verdict \"" + v + "\" in the mutual leg gave accept " + r->dump() +
                 ", not auth_failed");
    s.close_fd(fd);
  }
  // Still usable (CHAN-ACCEPT-3): a client that completes the handshake gets in.
  int side_fd = raw::connect(s, a, step(s));
  call acc = s.agent1().start({{"op", "accept"}, {"handle", l}});
  std::string m = frame_from(s, side_fd, "the challenge");
  raw::send(s, side_fd, raw::frame(right_answer(m.substr(kChallenge.size()))), step(s));
  s.expect(frame_from(s, side_fd, "#WELCOME#") == kWelcome, "a right answer was not welcomed");
  challenge_agent(s, side_fd, "md5");
  acc.ok();
}

}  // namespace npipe::conformance
