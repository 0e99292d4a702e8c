// chan_probe.cpp: telling a live listener from a stale socket file without disturbing it
// (spec/npipe.md CHAN-LISTEN-2, CHAN-LISTEN-3: the datagram probe).
//
// One implementation listens; another (the prober) tries to listen on the same address and must
// get already_exists. Whatever the prober did to find out, the live listener's next accept must be
// a real client: the driver's own, whose message the listener must then receive. A prober that
// found out with a stream connect (the naive port of "connect to see whether anyone answers")
// leaves its dead connection queued first, and the listener accepts that instead.
#include <chrono>

#include "chan_support.hpp"
#include "raw_peer.hpp"

namespace npipe::conformance {

using namespace support;

// NPIPE_REQ: CHAN-LISTEN-2 CHAN-LISTEN-3
NPIPE_SCENARIO(chan_probe, live_listener_next_accept_is_a_real_client,
               "CHAN-LISTEN-2 CHAN-LISTEN-3", "channel", "server prober",
               "After another implementation probed a live listener's address, the listener's "
               "next accept is a real client") {
  const std::string a = s.path("sock");
  const std::string l = handle_of(s, s.role("server").ok({{"op", "listen"}, {"address", a}}));
  if (!s.role("server").posix() || !s.role("prober").posix()) return;  // a socket-file matter
  s.role("prober").fails({{"op", "listen"}, {"address", a}}, "already_exists");
  // The driver is the real client: it connects after the probe, so a probe connection left
  // queued by the prober would be accepted first.
  const int fd = raw::connect(s, a, s.options().step_timeout);
  raw::send(s, fd, raw::frame("real client"), s.options().step_timeout);
  const std::string c = handle_of(s, s.role("server").ok({{"op", "accept"}, {"handle", l}}));
  const json reply = s.role("server").reply({{"op", "recv"}, {"handle", c}, {"timeout_ms", 2000}});
  s.expect(reply.value("ok", false) && data_of(s, reply) == "real client",
           "the live listener's next accept was not the real client (the prober's listen left a "
           "connection queued at it: a stream connect is not a liveness probe, CHAN-LISTEN-3)");
}

}  // namespace npipe::conformance
