// names_raw.cpp: raw names are used as given, and names that cannot be represented are refused
// for channel addresses too (spec/npipe.md, "Names"). Found by the runtime agents (issue 15):
// Java's Path.of turns "f/" into "f"; Node binds "x\0y" as "x", makes an abstract socket of a
// leading NUL and turns connect("") into a TCP connect.
#include <algorithm>

#include "raw_peer.hpp"
#include "scenario.hpp"
#include "support.hpp"

namespace npipe::conformance {
namespace {

using namespace support;

const scenario_needs kDriverMade =
    needs::posix("a FIFO and AF_UNIX listeners the driver makes itself, /proc/net/unix");

// A reply that must be a failure: a success means the name was not used as given.
void refused(scene& s, const json& cmd, const std::string& what) {
  json r = s.agent1().reply(cmd);
  s.expect(!r["ok"].get<bool>(), what + " succeeded: " + r.dump());
}

}  // namespace

NPIPE_SCENARIO(names_raw, trailing_slash_fifo, "NAME-2", "fifo", "agent", kDriverMade,
               "A raw name 'f/' is used as given: it does not open the FIFO 'f'") {
  std::string f = s.path("f");
  make_fifo(s, f);
  // A reader is there, so an open that wrongly reaches 'f' for writing completes at once.
  hold_fifo_open(s, f);
  refused(s, {{"op", "open"}, {"name", f + "/"}, {"dir", "w"}},
          "opening 'f/' for writing (open(2) refuses it: ENOTDIR)");
}

NPIPE_SCENARIO(names_raw, trailing_slash_channel, "NAME-2", "channel", "agent", kDriverMade,
               "A raw address 's/' is used as given: it does not reach the listener at 's'") {
  std::string a = s.path("s");
  raw::listen(s, a);
  s.driver_made(a);
  refused(s, {{"op", "connect"}, {"address", a + "/"}},
          "connecting to 's/' (connect(2) refuses it: ENOTDIR)");
}

NPIPE_SCENARIO(names_raw, unrepresentable_addresses, "NAME-3 ERR-5", "channel", "agent",
               kDriverMade,
               "Channel addresses with a NUL byte (inside or leading) or empty give invalid_name "
               "and bind or reach nothing") {
  std::string inside = s.path("x") + std::string(1, '\0') + "y";
  s.agent1().fails({{"op", "listen"}, {"address", inside}}, "invalid_name");
  s.expect(!lstat_of(s.path("x")), "listening at 'x\\0y' made a socket file 'x'");
  // A leading NUL is a Linux abstract socket name: out of scope, so invalid (NAME-3).
  // Unique to this driver run (its private directory) and scenario: the private directory's path.
  std::string tag = "npipe-abstract" + s.dir();
  std::replace(tag.begin(), tag.end(), '/', '-');
  s.agent1().fails({{"op", "listen"}, {"address", std::string(1, '\0') + tag}}, "invalid_name");
  s.expect(file_content("/proc/net/unix").find("@" + tag) == std::string::npos,
           "listening at a name with a leading NUL made an abstract socket");
  s.agent1().fails({{"op", "connect"}, {"address", ""}}, "invalid_name");
  // A listener at 'x' must not be reached through 'x\0y'.
  raw::listen(s, s.path("x"));
  s.driver_made(s.path("x"));
  s.agent1().fails({{"op", "connect"}, {"address", inside}}, "invalid_name");
}

}  // namespace npipe::conformance
