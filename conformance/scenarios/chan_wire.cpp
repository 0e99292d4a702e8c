// chan_wire.cpp: the bytes on the wire, with the driver itself as the raw peer (POSIX): length
// headers, the 2 GiB escape, bad lengths, EOF inside a frame, and the handshake byte by byte
// (spec/npipe.md, "Channel profile: messages", "authentication").
#include <chrono>

#include "chan_support.hpp"
#include "raw_peer.hpp"

namespace npipe::conformance {
namespace {

using namespace support;
using std::chrono::milliseconds;

struct wired {
  std::string listener;
  std::string conn;  // the agent's connection
  int fd = -1;       // the driver's
};

// The agent listens (with `auth` fields) and accepts the driver's raw connection; no handshake.
wired agent_serves(scene& s) {
  wired w;
  std::string a = s.path("sock");
  w.listener = handle_of(s, s.agent1().ok({{"op", "listen"}, {"address", a}}));
  w.fd = raw::connect(s, a, s.options().step_timeout);
  w.conn = handle_of(s, s.agent1().ok({{"op", "accept"}, {"handle", w.listener}}));
  return w;
}

milliseconds step(scene& s) {
  return s.options().step_timeout;
}

// Every scenario here: the driver speaks the wire itself, through AF_UNIX.
const scenario_needs kRawPeer = needs::posix("the driver's raw AF_UNIX peer");

}  // namespace

NPIPE_SCENARIO(chan_wire, length_header_sent, "CHAN-FRAME-1", "channel", "agent", kRawPeer,
               "Each message goes out as a 4-byte big-endian length, then the payload") {
  wired w = agent_serves(s);
  for (std::size_t n : {0u, 5u, 70000u}) {
    s.agent1().ok({{"op", "send"}, {"handle", w.conn}, {"pattern", pattern(n, 1)}});
    auto h = raw::recv_exact(s, w.fd, 4, step(s));
    s.expect(h.has_value(), "EOF where a frame header was due");
    s.expect(*h == raw::header32(static_cast<std::int32_t>(n)),
             "the header of a " + std::to_string(n) + "-byte message is not its 4-byte length");
    auto body = raw::recv_exact(s, w.fd, n, step(s));
    s.expect(body && *body == pattern_bytes(n, 1), "the payload after the header differs");
  }
}

NPIPE_SCENARIO(chan_wire, escape_header_accepted, "CHAN-FRAME-2", "channel", "agent", kRawPeer,
               "The -1 + 8-byte length escape is accepted for any size, even a small one") {
  wired w = agent_serves(s);
  raw::send(s, w.fd, raw::escaped_frame("tiny") + raw::escaped_frame("") + raw::frame("after"),
            step(s));
  s.expect(recv_data(s, s.agent1(), w.conn) == "tiny",
           "an escaped 4-byte frame was not read as such");
  s.expect(recv_data(s, s.agent1(), w.conn).empty(), "an escaped empty frame was not empty");
  s.expect(recv_data(s, s.agent1(), w.conn) == "after", "the frame after the escapes differs");
}

NPIPE_SCENARIO(chan_wire, negative_length_refused, "CHAN-FRAME-4", "channel", "agent", kRawPeer,
               "A negative length other than -1 gives protocol_error") {
  wired w = agent_serves(s);
  raw::send(s, w.fd, raw::header32(-2) + "xxxx", step(s));
  s.agent1().fails({{"op", "recv"}, {"handle", w.conn}}, "protocol_error");
}

NPIPE_SCENARIO(chan_wire, eof_inside_frame, "CHAN-EOF-2", "channel", "agent", kRawPeer,
               "EOF inside a message gives protocol_error, after the whole messages before it") {
  wired w = agent_serves(s);
  raw::send(s, w.fd, raw::frame("whole") + raw::header32(100) + "only ten b", step(s));
  s.close_fd(w.fd);
  s.expect(recv_data(s, s.agent1(), w.conn) == "whole", "the whole message before EOF differs");
  s.agent1().fails({{"op", "recv"}, {"handle", w.conn}}, "protocol_error");
}

NPIPE_SCENARIO(chan_wire, eof_inside_header, "CHAN-EOF-2", "channel", "agent", kRawPeer,
               "EOF inside a length header gives protocol_error, not EOF, after the whole "
               "messages before it") {
  wired w = agent_serves(s);
  raw::send(s, w.fd, raw::frame("whole") + raw::header32(100).substr(0, 2), step(s));
  s.close_fd(w.fd);
  s.expect(recv_data(s, s.agent1(), w.conn) == "whole", "the whole message before EOF differs");
  s.agent1().fails({{"op", "recv"}, {"handle", w.conn}}, "protocol_error");
}

NPIPE_SCENARIO(chan_wire, eof_inside_long_length, "CHAN-EOF-2 CHAN-FRAME-2", "channel", "agent",
               kRawPeer, "EOF inside the 8-byte length after -1 gives protocol_error") {
  wired w = agent_serves(s);
  raw::send(s, w.fd, raw::header32(-1) + std::string(3, '\0'), step(s));
  s.close_fd(w.fd);
  s.agent1().fails({{"op", "recv"}, {"handle", w.conn}}, "protocol_error");
}

NPIPE_SCENARIO(chan_wire, maxlength_without_reading, "CHAN-RECV-1 CHAN-RECV-2", "channel", "agent",
               kRawPeer,
               "A header claiming 2 GiB with maxlength 1024 gives message_too_long at once, "
               "without waiting for the payload") {
  wired w = agent_serves(s);
  raw::send(s, w.fd, raw::header32(0x7fffffff), step(s));
  s.agent1().fails({{"op", "recv"}, {"handle", w.conn}, {"max", 1024}}, "message_too_long");
  // The payload was not read, so nothing after it can be parsed: the next receive fails with
  // io_error (the connection is write-only), whatever the driver sends meanwhile.
  raw::send(s, w.fd, raw::frame("next"), step(s));
  s.agent1().fails({{"op", "recv"}, {"handle", w.conn}, {"timeout_ms", 1000}}, "io_error");
  s.agent1().ok({{"op", "send"}, {"handle", w.conn}, {"data", b64("still here")}});
  auto m = raw::recv_frame(s, w.fd, step(s));
  s.expect(m && *m == "still here", "the agent could not send after message_too_long");
}

NPIPE_SCENARIO(chan_wire, deadline_inside_message_resumes, "CHAN-RECV-4", "channel", "agent",
               kRawPeer,
               "A receive deadline that passes inside a message loses nothing; the next receive "
               "returns the whole message") {
  wired w = agent_serves(s);
  raw::send(s, w.fd, raw::header32(10) + "first", step(s));
  // Nothing more is sent until the agent has answered, so its deadline must pass mid-message.
  s.agent1().fails({{"op", "recv"}, {"handle", w.conn}, {"timeout_ms", 200}}, "timeout");
  raw::send(s, w.fd, "-half", step(s));
  s.expect(recv_data(s, s.agent1(), w.conn) == "first-half",
           "the message interrupted by a deadline was not resumed whole");
}

}  // namespace npipe::conformance
