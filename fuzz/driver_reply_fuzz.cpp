// fuzz/driver_reply_fuzz.cpp: the conformance driver's side of the driver protocol on hostile
// bytes (spec/driver-protocol.md, sections 1, 2 and 5.1): an agent's stdout cut into lines as
// agent::poll_reply cuts it, each line through parse_reply, each accepted reply through
// hello_problem and brief.
//
// Byte 0 is the id in flight for the first line (0: no command in flight); after each accepted
// reply the next command's id is one more, as the driver numbers them. The rest is the agent's
// stdout. Each line gives a reply or a problem, never both and never an exception. A problem says
// what is wrong in a bounded message. A reply is an object answering the id in flight with a
// boolean "ok", nested no deeper than kMaxReplyDepth, and re-serialised on one line it is
// accepted again as the same reply. Nothing may crash, hang or allocate without bound.
#include <algorithm>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz_check.hpp"
#include "reply_parser.hpp"

namespace {

using npipe::conformance::json;
using npipe::conformance::kMaxReplyDepth;
using npipe::conformance::parse_reply;

// The depth of v in containers (a scalar is 0), counting no further than `limit` + 1.
int depth_of(const json& v, int limit) {
  if (!v.is_structured() || limit < 0) return 0;
  int deepest = 0;
  for (const auto& child : v)
    deepest = std::max(deepest, depth_of(child, limit - 1));
  return 1 + deepest;
}

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

// The message names one of the things a line can get wrong, and quotes a bounded part of it.
void check_problem(const std::string& problem) {
  FUZZ_CHECK(starts_with(problem, "wrote a line with no command in flight: ") ||
                 starts_with(problem, "wrote a line that is not JSON: ") ||
                 starts_with(problem, "wrote a reply nested deeper than ") ||
                 starts_with(problem, "wrote a reply without id/ok: ") ||
                 starts_with(problem, "answered id "),
             "a problem that does not say what is wrong");
  FUZZ_CHECK(problem.size() <= 300, "a problem message that is not bounded");
}

void check_reply(const json& r, int in_flight) {
  FUZZ_CHECK(r.is_object(), "an accepted reply that is not an object");
  FUZZ_CHECK(r.contains("id") && r["id"] == in_flight, "an accepted reply to another id");
  FUZZ_CHECK(r.contains("ok") && r["ok"].is_boolean(), "an accepted reply without a boolean ok");
  FUZZ_CHECK(depth_of(r, kMaxReplyDepth) <= kMaxReplyDepth, "an accepted reply nested too deep");
  // Strict: an accepted reply holds valid UTF-8 only, so it always serialises.
  const std::string text = r.dump();
  FUZZ_CHECK(text.find('\n') == std::string::npos, "a reply re-serialises on several lines");
  npipe::conformance::parsed_reply again = parse_reply(text, in_flight);
  FUZZ_CHECK(again.problem.empty(), "a re-serialised reply is refused");
  FUZZ_CHECK(again.reply == r, "a re-serialised reply parses to something else");
  // As the driver uses a reply to hello: verdict and message never throw.
  const std::string hello = npipe::conformance::hello_problem(r);
  if (hello.empty())
    FUZZ_CHECK(r["ok"] == true && r.contains("protocol") && r["protocol"] == 1,
               "a hello without ok or protocol 1 accepted");
  (void)npipe::conformance::brief(r);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  int in_flight = data[0];
  const std::string out(reinterpret_cast<const char*>(data + 1), size - 1);
  // Only whole lines: the driver waits for the rest of a line without its "\n".
  for (std::size_t start = 0, nl; (nl = out.find('\n', start)) != std::string::npos;
       start = nl + 1) {
    npipe::conformance::parsed_reply p = parse_reply(out.substr(start, nl - start), in_flight);
    if (p.problem.empty()) {
      check_reply(p.reply, in_flight);
      ++in_flight;
    } else {
      FUZZ_CHECK(p.reply.is_null(), "a line gives both a reply and a problem");
      check_problem(p.problem);
    }
  }
  return 0;
}
