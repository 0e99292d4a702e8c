// reply_parser.hpp: one line an agent wrote on stdout -> the reply to the command in flight, or
// the protocol error it is (spec/driver-protocol.md, sections 1, 2 and 5.1). No I/O and no agent:
// agent.cpp reads the lines and acts on the verdict; fuzz/driver_reply_fuzz.cpp feeds it any bytes.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace npipe::conformance {

using json = nlohmann::json;

// Replies nested deeper are refused: copying or printing a JSON value recurses once per level, so
// a line of a few hundred KiB of '[' would overflow the driver's stack. Replies nest two levels.
constexpr int kMaxReplyDepth = 64;

struct parsed_reply {
  json reply;           // with no problem: an object, "id" the id in flight, "ok" a boolean
  std::string problem;  // else what is wrong, for "PROTOCOL: <agent> <problem>"; reply is null
};

// `in_flight` is the id of the command in flight, 0 when there is none.
parsed_reply parse_reply(const std::string& line, int in_flight);

// Why a reply to hello that parse_reply accepted is refused, or "" (section 5.1).
std::string hello_problem(const json& reply);

// A command or reply shortened for messages: long strings (payloads) are cut.
std::string brief(const json& j);

}  // namespace npipe::conformance
