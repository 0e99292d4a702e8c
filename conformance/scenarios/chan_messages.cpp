// chan_messages.cpp: messages between two agents: boundaries at the framing edges, big messages,
// maxlength, EOF and broken pipe (spec/npipe.md, "Channel profile: messages", "lifetime").
#include <optional>
#include <vector>

#include "chan_support.hpp"

namespace npipe::conformance {
namespace {

using namespace support;

void sizes_one_way(scene& s, actor& from, const std::string& from_h, actor& to,
                   const std::string& to_h) {
  // Sent in two batches, each read back after it is all sent: adjacent messages test the
  // boundaries, and a batch stays well under a socket buffer so the sender never waits.
  const std::vector<std::vector<std::size_t>> batches = {
      {0, 1, 16383, 0, 16384}, {16385, 65535}, {65536, 65537}};
  // A Windows sender writes each message to a message-mode pipe whose buffer (64 KiB in the
  // reference, advisory, platform-defined like FIFO-IO-7) may not hold a whole batch: its send
  // completes only once the message is read, so each one is received while it is in flight.
  const bool one_by_one = !from.posix();
  for (const auto& batch : batches) {
    for (std::size_t n : batch) {
      if (one_by_one) break;
      from.ok({{"op", "send"},
               {"handle", from_h},
               {"data", b64(pattern_bytes(n, static_cast<unsigned>(n % 251)))}});
    }
    for (std::size_t n : batch) {
      std::optional<call> sending;
      if (one_by_one)
        sending = from.start({{"op", "send"},
                              {"handle", from_h},
                              {"data", b64(pattern_bytes(n, static_cast<unsigned>(n % 251)))}});
      json r = to.ok({{"op", "recv"}, {"handle", to_h}});
      if (sending) sending->ok();
      s.expect(!r.value("eof", false),
               "EOF where a message of " + std::to_string(n) + " bytes was due");
      std::string got = data_of(s, r);
      s.expect(got.size() == n, "a message of " + std::to_string(n) + " bytes arrived as " +
                                    std::to_string(got.size()) + " bytes (boundaries lost)");
      s.expect(got == pattern_bytes(n, static_cast<unsigned>(n % 251)),
               "a message of " + std::to_string(n) + " bytes arrived changed");
    }
  }
}

}  // namespace

NPIPE_SCENARIO(chan_messages, edge_sizes_client_to_server, "CHAN-FRAME-3 CHAN-FRAME-1", "channel",
               "server client",
               "Messages of 0, 1, 16383..16385, 65535..65537 bytes keep their boundaries, client "
               "to server") {
  auto p = connect_pair(s, s.role("server"), s.role("client"), s.path("sock"));
  sizes_one_way(s, s.role("client"), p.client, s.role("server"), p.server);
}

NPIPE_SCENARIO(chan_messages, edge_sizes_server_to_client, "CHAN-FRAME-3 CHAN-FRAME-1", "channel",
               "server client",
               "Messages at the size edges keep their boundaries, server to client") {
  auto p = connect_pair(s, s.role("server"), s.role("client"), s.path("sock"));
  sizes_one_way(s, s.role("server"), p.server, s.role("client"), p.client);
}

NPIPE_SCENARIO(chan_messages, big_message, "CHAN-FRAME-3", "channel", "server client",
               "An 8 MiB message arrives whole and unchanged") {
  const std::size_t size = 8u << 20;
  s.allow_slow_steps(3);
  auto p = connect_pair(s, s.role("server"), s.role("client"), s.path("sock"));
  call send = s.role("client").start(
      {{"op", "send"}, {"handle", p.client}, {"pattern", pattern(size, 77)}});
  json r = s.role("server").ok({{"op", "recv"}, {"handle", p.server}, {"digest", true}});
  send.ok();
  s.expect(
      r.value("size", std::size_t{0}) == size,
      "the message arrived with " + std::to_string(r.value("size", std::size_t{0})) + " bytes");
  s.expect(r.value("sha256", std::string()) == pattern_sha256(size, 77),
           "the big message arrived changed (SHA-256 differs)");
}

NPIPE_SCENARIO(chan_messages, maxlength, "CHAN-RECV-1 CHAN-RECV-2", "channel", "server client",
               "A message longer than maxlength gives message_too_long; then the connection only "
               "sends") {
  auto p = connect_pair(s, s.role("server"), s.role("client"), s.path("sock"));
  s.role("client").ok({{"op", "send"}, {"handle", p.client}, {"data", b64(std::string(100, 'a'))}});
  json fits = s.role("server").ok({{"op", "recv"}, {"handle", p.server}, {"max", 100}});
  s.expect(data_of(s, fits).size() == 100, "a message of exactly maxlength was refused or cut");
  s.role("client").ok({{"op", "send"}, {"handle", p.client}, {"data", b64(std::string(101, 'b'))}});
  s.role("server").fails({{"op", "recv"}, {"handle", p.server}, {"max", 100}}, "message_too_long");
  // Write-only from now on: the next receive fails with io_error, even with a message waiting.
  s.role("client").ok({{"op", "send"}, {"handle", p.client}, {"data", b64("next")}});
  s.role("server").fails({{"op", "recv"}, {"handle", p.server}, {"timeout_ms", 1000}}, "io_error");
  s.role("server").ok({{"op", "send"}, {"handle", p.server}, {"data", b64("still sending")}});
  s.expect(recv_data(s, s.role("client"), p.client) == "still sending",
           "the write-only side's message did not arrive");
}

NPIPE_SCENARIO(chan_messages, eof_on_boundary, "CHAN-EOF-1", "channel", "server client",
               "The client closes after a message: the server gets it, then EOF") {
  auto p = connect_pair(s, s.role("server"), s.role("client"), s.path("sock"));
  s.role("client").ok({{"op", "send"}, {"handle", p.client}, {"data", b64("bye")}});
  s.role("client").ok({{"op", "close"}, {"handle", p.client}});
  s.expect(recv_data(s, s.role("server"), p.server) == "bye", "the last message differs");
  json r = s.role("server").ok({{"op", "recv"}, {"handle", p.server}});
  s.expect(r.value("eof", false), "after the peer closed, recv gave " + r.dump() + ", not EOF");
}

NPIPE_SCENARIO(chan_messages, send_to_gone_peer, "CHAN-EOF-3", "channel", "server client",
               "Sending to a client that closed gives broken_pipe, and the sender lives on") {
  auto p = connect_pair(s, s.role("server"), s.role("client"), s.path("sock"));
  s.role("client").ok({{"op", "close"}, {"handle", p.client}});
  // The first send may still be buffered by some transports; by the third it must fail.
  json r;
  for (int i = 0; i < 3; ++i) {
    r = s.role("server").reply({{"op", "send"}, {"handle", p.server}, {"data", b64("anyone?")}});
    if (!r["ok"].get<bool>()) break;
  }
  s.expect(!r["ok"].get<bool>() && r.value("error", std::string()) == "broken_pipe",
           "send to a gone peer gave " + r.dump() + ", not broken_pipe");
}

NPIPE_SCENARIO(chan_messages, killed_peer, "CHAN-LIFE-2", "channel", "server client",
               "When the client is killed, the server's recv gives EOF and its send broken_pipe") {
  auto p = connect_pair(s, s.role("server"), s.role("client"), s.path("sock"));
  call recv = s.role("server").start({{"op", "recv"}, {"handle", p.server}});
  s.expect_pending(recv, "recv with nothing sent");
  s.role("client").kill();
  json r = recv.reply();
  s.expect(r.value("eof", false) || r.value("error", std::string()) == "protocol_error",
           "recv after the peer died gave " + r.dump());
  s.role("server").fails({{"op", "send"}, {"handle", p.server}, {"data", b64("x")}}, "broken_pipe");
}

}  // namespace npipe::conformance

namespace npipe::conformance {

NPIPE_SCENARIO(chan_messages, recv_deadline, "CHAN-RECV-3", "channel", "server client",
               "A recv whose deadline passes gives timeout, and the connection stays usable") {
  using namespace support;
  auto p = connect_pair(s, s.role("server"), s.role("client"), s.path("sock"));
  s.role("server").fails({{"op", "recv"}, {"handle", p.server}, {"timeout_ms", 200}}, "timeout");
  s.role("server").fails({{"op", "recv"}, {"handle", p.server}, {"timeout_ms", 0}}, "would_block");
  exchange(s, s.role("server"), s.role("client"), p);
}

NPIPE_SCENARIO(chan_messages, listener_close_keeps_connections, "CHAN-LIFE-3", "channel",
               "server client", "Closing a listener leaves the connections it accepted working") {
  using namespace support;
  auto p = connect_pair(s, s.role("server"), s.role("client"), s.path("sock"));
  s.role("server").ok({{"op", "close"}, {"handle", p.listener}});
  exchange(s, s.role("server"), s.role("client"), p);
}

}  // namespace npipe::conformance
