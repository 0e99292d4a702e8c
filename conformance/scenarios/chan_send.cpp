// chan_send.cpp: sends with a deadline (spec/npipe.md 7.4, CHAN-SEND-*): a send the deadline cuts
// either sent nothing and left the connection as it was, or sent part and can send no more; the
// peer never receives the cut bytes as a message.
#include <chrono>
#include <string>

#include "chan_support.hpp"
#include "raw_peer.hpp"

namespace npipe::conformance {
namespace {

using namespace support;

// After a send that failed by its deadline: what the next send and the peer show must agree with
// one of the two outcomes CHAN-SEND-1 and CHAN-SEND-2 allow. The peer has taken every message sent
// before the failed one; `failed_what` names the failed send in messages.
void check_after_failed_send(scene& s, actor& sender, const std::string& sender_h, actor& peer,
                             const std::string& peer_h, const std::string& failed_what) {
  const std::string next = "after the " + failed_what;
  // With a deadline: neither outcome lets this send wait (nothing of the failed message went, so
  // there is room; or the connection refuses at once), but one that wrongly goes on after a cut
  // meets the full buffer the cut left, and its timeout is then the failure reported.
  json a = sender.reply({{"op", "send"},
                         {"handle", sender_h},
                         {"data", b64(next)},
                         {"timeout_ms", s.options().step_timeout.count() / 2}});
  if (a["ok"].get<bool>()) {
    // Nothing of the failed message went (CHAN-SEND-1): the peer's next message is `next`,
    // whole; the failed one never arrives, neither whole nor in part.
    s.note("the " + failed_what + " sent nothing; the connection went on (CHAN-SEND-1)");
    json r = peer.reply(
        {{"op", "recv"}, {"handle", peer_h}, {"timeout_ms", s.options().step_timeout.count() / 2}});
    s.expect(r["ok"].get<bool>() && !r.value("eof", false) && data_of(s, r) == next,
             "after the " + failed_what +
                 " the sender's next send succeeded, so nothing of it may have gone (CHAN-SEND-1), "
                 "but the peer's next receive gave " +
                 r.dump().substr(0, 200) + " instead of the next message");
    return;
  }
  // Part of it went (CHAN-SEND-2): every later send fails io_error, and the peer gets no message
  // made of the cut bytes: once the sender closes, its receive ends in protocol_error or EOF.
  s.expect(a.value("error", std::string()) == "io_error",
           "the send after the " + failed_what + " failed with " + a.dump() +
               ": a connection whose message was cut fails every later send with io_error");
  s.note("the " + failed_what + " was cut; later sends fail io_error (CHAN-SEND-2)");
  sender.fails({{"op", "send"}, {"handle", sender_h}, {"data", b64("and again")}}, "io_error");
  sender.ok({{"op", "close"}, {"handle", sender_h}});
  json r = peer.reply({{"op", "recv"}, {"handle", peer_h}, {"digest", true}});
  const bool ended = r["ok"].get<bool>() ? r.value("eof", false)
                                         : r.value("error", std::string()) == "protocol_error";
  s.expect(ended, "after the sender's message was cut and it closed, the peer's receive gave " +
                      r.dump().substr(0, 200) + ", not protocol_error or EOF");
}

}  // namespace

NPIPE_SCENARIO(chan_send, deadline_cuts_big_message, "CHAN-SEND-1 CHAN-SEND-2", "channel",
               "server client",
               "An 8 MiB send with a 300 ms deadline to a peer that does not read fails timeout "
               "at its deadline; then the connection is unchanged or can send no more, and the "
               "peer never takes the cut bytes for a message") {
  const std::size_t size = 8u << 20;  // above any socket buffer and Windows pipe quota
  s.allow_slow_steps(3);
  auto p = connect_pair(s, s.role("server"), s.role("client"), s.path("sock"));
  actor& sender = s.role("client");
  actor& peer = s.role("server");
  sender.ok({{"op", "send"}, {"handle", p.client}, {"data", b64("before")}});
  auto t0 = std::chrono::steady_clock::now();
  json r = sender.reply(
      {{"op", "send"}, {"handle", p.client}, {"pattern", pattern(size, 5)}, {"timeout_ms", 300}});
  long took = ms_since(t0);
  if (r["ok"].get<bool>()) {
    // The peer's runtime read the stream ahead of its recv commands (into its own memory), so
    // the sender never met a full buffer: an ordinary send, whose message must arrive whole.
    s.expect(recv_data(s, peer, p.server) == "before", "the message sent before differs");
    json big = peer.reply({{"op", "recv"},
                           {"handle", p.server},
                           {"digest", true},
                           {"timeout_ms", s.options().step_timeout.count() / 2}});
    s.expect(
        big["ok"].get<bool>() && big.value("sha256", std::string()) == pattern_sha256(size, 5),
        "an 8 MiB send with a 300 ms deadline replied sent, but the peer's receive of it gave " +
            big.dump().substr(0, 200));
    throw not_applicable("the peer reads ahead of its recv commands: no send waits for room");
  }
  s.expect(r.value("error", std::string()) == "timeout",
           "an 8 MiB send to a peer that does not read, with a 300 ms deadline, gave " + r.dump() +
               ", not timeout");
  s.expect(took >= 270, "the send gave timeout after " + std::to_string(took) +
                            " ms, before its 300 ms deadline");
  s.expect(took < 2300, "the send gave timeout after " + std::to_string(took) +
                            " ms: 2 s later than its 300 ms deadline");
  // The message sent before is intact whatever happened to the cut one.
  s.expect(recv_data(s, peer, p.server) == "before",
           "the message sent before the cut one arrived changed");
  check_after_failed_send(s, sender, p.client, peer, p.server, "8 MiB send whose deadline passed");
}

NPIPE_SCENARIO(chan_send, immediate_send_when_full, "CHAN-SEND-1 CHAN-SEND-2", "channel",
               "server client",
               "Immediate sends of 1000-byte messages to a peer that does not read: the first "
               "that cannot go fails would_block; after the peer drains, the connection goes on "
               "and every message arrives intact and in order") {
  const std::size_t size = 1000;
  auto p = connect_pair(s, s.role("server"), s.role("client"), s.path("sock"));
  actor& sender = s.role("client");
  actor& peer = s.role("server");
  int accepted = 0;
  for (;; ++accepted) {
    // 4 MiB: far above any socket buffer or pipe quota; only a peer whose runtime reads ahead of
    // its recv commands takes that much.
    if (accepted == 4096)
      throw not_applicable(
          "the peer reads ahead of its recv commands: 4 MiB of immediate sends "
          "never met a full buffer");
    json r = sender.reply({{"op", "send"},
                           {"handle", p.client},
                           {"pattern", pattern(size, static_cast<unsigned>(accepted % 251))},
                           {"timeout_ms", 0}});
    if (r["ok"].get<bool>()) continue;
    s.expect(
        r.value("error", std::string()) == "would_block",
        "an immediate send into a full connection failed with " + r.dump() + ", not would_block");
    break;
  }
  s.expect(accepted > 0, "the first immediate send to an idle connection failed would_block");
  s.note(std::to_string(accepted) + " messages of 1000 bytes went before would_block");
  // Every message the sender was told went arrives whole and in order.
  for (int i = 0; i < accepted; ++i) {
    json r = peer.ok({{"op", "recv"}, {"handle", p.server}});
    s.expect(!r.value("eof", false) &&
                 data_of(s, r) == pattern_bytes(size, static_cast<unsigned>(i % 251)),
             "message " + std::to_string(i) + " of the " + std::to_string(accepted) +
                 " immediate sends that succeeded arrived changed, or not at all");
  }
  check_after_failed_send(s, sender, p.client, peer, p.server, "immediate send that would block");
}

NPIPE_SCENARIO(chan_send, deadline_send_to_reader, "CHAN-SEND-1", "channel", "server client",
               "An 8 MiB send with a generous deadline to a peer that reads completes, and the "
               "message arrives whole") {
  const std::size_t size = 8u << 20;
  s.allow_slow_steps(3);
  auto p = connect_pair(s, s.role("server"), s.role("client"), s.path("sock"));
  // A small send with a deadline first: an agent that has no send deadline says so here
  // (unsupported: N/A), not while the peer waits for the big message.
  s.role("client").ok(
      {{"op", "send"}, {"handle", p.client}, {"data", b64("first")}, {"timeout_ms", 1000}});
  s.expect(recv_data(s, s.role("server"), p.server) == "first",
           "a small message sent with a deadline differs");
  // Most of the (tripled) step: only a send that stalls, or gives up early, misses it.
  const long deadline_ms = s.options().step_timeout.count() * 3 * 4 / 5;
  call send = s.role("client").start({{"op", "send"},
                                      {"handle", p.client},
                                      {"pattern", pattern(size, 9)},
                                      {"timeout_ms", deadline_ms}});
  json r = s.role("server").ok({{"op", "recv"}, {"handle", p.server}, {"digest", true}});
  json sent = send.ok();
  s.expect(sent.value("sent", std::size_t{0}) == size, "the send replied " + sent.dump());
  s.expect(r.value("size", std::size_t{0}) == size &&
               r.value("sha256", std::string()) == pattern_sha256(size, 9),
           "the 8 MiB message sent with a deadline arrived changed (size " +
               r.value("size", json()).dump() + ")");
  s.role("client").ok({{"op", "send"}, {"handle", p.client}, {"data", b64("next")}});
  s.expect(recv_data(s, s.role("server"), p.server) == "next",
           "the message after the 8 MiB one differs");
}

NPIPE_SCENARIO(chan_send, cut_message_on_the_wire, "CHAN-SEND-1 CHAN-SEND-2", "channel", "agent",
               needs::posix("the driver's raw AF_UNIX peer"),
               "The bytes on the wire after an 8 MiB send cut by its deadline: the messages before "
               "it, then a prefix of its frame and nothing more, or nothing of it and the next "
               "message") {
  // The driver is the peer, and reads nothing until the end: no runtime can read ahead for it.
  const std::size_t size = 8u << 20;
  const auto limit = s.options().step_timeout;
  s.allow_slow_steps(3);
  std::string a = s.path("sock");
  std::string l = handle_of(s, s.agent1().ok({{"op", "listen"}, {"address", a}}));
  int fd = raw::connect(s, a, limit);
  std::string c = handle_of(s, s.agent1().ok({{"op", "accept"}, {"handle", l}}));
  s.agent1().ok({{"op", "send"}, {"handle", c}, {"data", b64("before")}});
  s.agent1().fails(
      {{"op", "send"}, {"handle", c}, {"pattern", pattern(size, 7)}, {"timeout_ms", 300}},
      "timeout");
  // With a deadline, as in check_after_failed_send: a connection that goes on after the cut meets
  // the full buffer, and its timeout is the failure reported.
  json next = s.agent1().reply(
      {{"op", "send"}, {"handle", c}, {"data", b64("after")}, {"timeout_ms", limit.count() / 2}});
  const bool went_on = next["ok"].get<bool>();
  if (!went_on)
    s.expect(next.value("error", std::string()) == "io_error",
             "the send after a cut one gave " + next.dump() + ", not io_error");
  s.agent1().ok({{"op", "close"}, {"handle", c}});
  // Everything the agent sent, to EOF.
  std::string wire;
  auto all = raw::recv_exact(s, fd, size + 64, limit, &wire);
  if (all) s.fail("the agent sent more bytes than the messages before, cut and after hold");
  const std::string before = raw::frame("before");
  s.expect(wire.compare(0, before.size(), before) == 0,
           "the wire does not start with the frame of the message sent before");
  std::string rest = wire.substr(std::min(wire.size(), before.size()));
  if (went_on) {
    // CHAN-SEND-1: nothing of the failed message, then the next one.
    s.expect(rest == raw::frame("after"),
             "the send after the timed-out one succeeded, so nothing of the timed-out message "
             "may be on the wire, but after the first frame came " +
                 std::to_string(rest.size()) + " bytes that are not just the next frame");
    return;
  }
  // CHAN-SEND-2: a strict prefix of the cut frame, and nothing after it.
  const std::string cut = raw::frame(pattern_bytes(size, 7));
  s.note(std::to_string(rest.size()) + " bytes of the 8 MiB frame went before the deadline");
  s.expect(!rest.empty() && rest.size() < cut.size() && cut.compare(0, rest.size(), rest) == 0,
           "after a cut send the wire holds " + std::to_string(rest.size()) +
               " more bytes that are not a prefix of the cut frame (bytes sent after the cut, or "
               "not the message's)");
}

}  // namespace npipe::conformance
