// errors.cpp: what an implementation cannot do it refuses, and the refusal leaves nothing behind
// (spec/npipe.md ERR-6, spec/driver-protocol.md section 2).
#include "scenario.hpp"
#include "support.hpp"

namespace npipe::conformance {

using namespace support;

NPIPE_SCENARIO(errors, unknown_op_is_unsupported, "ERR-6", "fifo", "agent",
               "An op the agent does not know gets unsupported, and the agent goes on") {
  json r =
      s.agent1().start({{"op", "npipe-conformance-no-such-op"}, {"name", s.path("x")}}).answer();
  s.expect(!r["ok"].get<bool>() && r.value("error", std::string()) == "unsupported",
           "an unknown op was answered " + r.dump() + ", not unsupported");
  s.expect(!lstat_of(s.path("x")), "an unknown op left a file at the name it was given");
  // Still speaking the protocol.
  std::string owner = create(s, s.agent1(), s.path("f"), "r");
  s.agent1().ok({{"op", "close"}, {"handle", owner}});
}

NPIPE_SCENARIO(errors, adopt_where_names_never_outlive_owners, "ERR-6", "fifo", "owner peer",
               needs::windows("adopt is defined on POSIX (FIFO-CREATE-4); this checks Windows"),
               "On Windows, adopt is unsupported and creates nothing") {
  std::string f = s.path("f");
  json r = s.owner().start({{"op", "create"}, {"name", f}, {"dir", "r"}, {"adopt", true}}).answer();
  s.expect(!r["ok"].get<bool>() && r.value("error", std::string()) == "unsupported",
           "create with adopt on Windows was answered " + r.dump() + ", not unsupported");
  // No effect: no instance of the name exists.
  s.peer().fails({{"op", "open"}, {"name", f}, {"dir", "w"}, {"timeout_ms", 0}}, "not_found");
}

}  // namespace npipe::conformance
