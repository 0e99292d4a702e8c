// reply_parser.cpp: the driver's checks of an agent's reply lines (see reply_parser.hpp).
#include "reply_parser.hpp"

#include <exception>
#include <utility>

namespace npipe::conformance {
namespace {

// What a message quotes of the agent's bytes: enough to recognise them, never all of them.
std::string excerpt(const std::string& s) {
  return s.substr(0, 200);
}

struct too_deep {};

}  // namespace

parsed_reply parse_reply(const std::string& line, int in_flight) {
  parsed_reply out;
  if (!in_flight) {
    out.problem = "wrote a line with no command in flight: " + excerpt(line);
    return out;
  }
  json r;
  try {
    // The parser itself does not recurse; the depth is refused here, before anything else does.
    r = json::parse(line, [](int depth, json::parse_event_t event, json&) {
      if (depth >= kMaxReplyDepth &&
          (event == json::parse_event_t::object_start || event == json::parse_event_t::array_start))
        throw too_deep{};
      return true;
    });
  } catch (const too_deep&) {
    out.problem = "wrote a reply nested deeper than " + std::to_string(kMaxReplyDepth) +
                  " levels: " + excerpt(line);
    return out;
  } catch (const std::exception&) {
    out.problem = "wrote a line that is not JSON: " + excerpt(line);
    return out;
  }
  if (!r.is_object() || !r.contains("id") || !r.contains("ok") || !r["ok"].is_boolean()) {
    out.problem = "wrote a reply without id/ok: " + excerpt(line);
    return out;
  }
  if (r["id"] != in_flight) {
    // Cut like the line: an id can be any JSON value, as long as the line.
    out.problem = "answered id " + excerpt(r["id"].dump()) + " while " + std::to_string(in_flight) +
                  " was in flight";
    return out;
  }
  out.reply = std::move(r);
  return out;
}

std::string hello_problem(const json& r) {
  if (r.value("ok", false) != true) return "hello failed: " + brief(r);
  if (!r.contains("protocol") || r["protocol"] != 1)
    return "hello announces an unknown protocol: " + brief(r);
  return "";
}

std::string brief(const json& j) {
  json c = j;
  if (c.is_object())
    for (auto& [k, v] : c.items())
      if (v.is_string() && v.get<std::string>().size() > 60)
        v = v.get<std::string>().substr(0, 40) + "...(" +
            std::to_string(v.get<std::string>().size()) + " chars)";
  // replace: the cut can fall inside a UTF-8 sequence, which a strict dump throws for.
  return c.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace npipe::conformance
