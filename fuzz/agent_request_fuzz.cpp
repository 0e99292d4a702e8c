// fuzz/agent_request_fuzz.cpp: the agent's input side on hostile bytes (spec/driver-protocol.md,
// sections 1 and 3): line splitting (line_reader) and command parsing (request).
//
// Byte 0 chooses the read sizes and the line limit; the rest is the agent's stdin. Every line is
// parsed as session::execute does it, every accessor the ops use is called, and the reply is
// serialised as the agent serialises it. Only npipe::error(protocol_error) may come out of a
// malformed field; nothing may crash, hang or allocate without bound; lines never exceed the
// limit and never contain "\n".
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz_check.hpp"
#include "npipe-agent/line_reader.hpp"
#include "npipe-agent/request.hpp"
#include "npipe/error.hpp"

namespace {

using npipe::agent::request;

// Calls f; a npipe::error must be protocol_error. Returns true when f completed.
template <class F>
bool field_ok(F&& f) {
  try {
    f();
    return true;
  } catch (const npipe::error& e) {
    FUZZ_CHECK(e.value() == npipe::errc::protocol_error,
               "a field error that is not protocol_error");
    return false;
  }
}

void exercise(const std::string& line) {
  request r(line);
  nlohmann::json reply = {{"id", r.id()}, {"ok", true}};
  if (field_ok([&] { r.check(); })) {
    FUZZ_CHECK(r.id().is_number_integer(), "a well-formed request without an integer id");
    for (const char* f : {"path", "address", "handle", "data", "authkey", "challenge"}) {
      field_ok([&] { (void)r.has(f); });
      field_ok([&] { (void)r.optional_string(f); });
      field_ok([&] { (void)r.string_field(f); });
      field_ok([&] { (void)r.optional_bytes(f); });
    }
    for (const char* f : {"mode", "max", "timeout_ms", "backlog", "handshake_timeout_ms"}) {
      field_ok([&] {
        auto v = r.optional_int(f, 0, 07777);
        FUZZ_CHECK(!v || (*v >= 0 && *v <= 07777), "optional_int out of its range");
      });
      field_ok([&] {
        auto v = r.optional_int(f, -5, std::numeric_limits<std::int64_t>::max());
        FUZZ_CHECK(!v || *v >= -5, "optional_int below its minimum");
      });
    }
    field_ok([&] { (void)r.optional_bool("adopt", false); });
    field_ok([&] { (void)r.dir(); });
    field_ok([&] { (void)r.deadline(); });
    field_ok([&] {
      npipe::agent::payload p = r.data_or_pattern();
      // The first and last few bytes, as a write op fills its buffer piece by piece.
      std::uint8_t buf[64];
      std::size_t head = static_cast<std::size_t>(std::min<std::uint64_t>(p.size, sizeof buf));
      p.fill(buf, head, 0);
      if (p.size > head) p.fill(buf, head, p.size - head);
      if (!p.is_pattern) FUZZ_CHECK(p.size == p.data.size(), "payload size differs from its data");
    });
  } else {
    reply = {{"id", r.id()}, {"ok", false}, {"error", "protocol_error"}};
  }
  // As session::execute serialises: bytes that are not UTF-8 are replaced, never fatal.
  std::string text = reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  FUZZ_CHECK(text.find('\n') == std::string::npos, "a reply spans more than one line");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned control = data[0];
  const char* in = reinterpret_cast<const char*>(data + 1);
  std::size_t left = size - 1;
  const std::size_t max_line = (control & 0x80) ? 4096 : 64 + (control & 0x3f);
  unsigned step = 0;
  npipe::agent::line_reader reader(
      [&](void* buf, std::size_t n) -> std::size_t {
        std::size_t chunk = 1 + ((control * 31u + 7u * step++) % 97u);
        chunk = std::min({chunk, n, left});
        std::memcpy(buf, in, chunk);
        in += chunk;
        left -= chunk;
        return chunk;
      },
      max_line);
  std::string line;
  for (int lines = 0;; ++lines) {
    FUZZ_CHECK(lines <= static_cast<int>(size) + 1, "line_reader returns more lines than bytes");
    auto res = reader.next(line);
    if (res == npipe::agent::line_reader::result::eof) break;
    if (res == npipe::agent::line_reader::result::too_long) continue;
    FUZZ_CHECK(line.size() <= max_line, "a line longer than the limit");
    FUZZ_CHECK(line.find('\n') == std::string::npos, "a line contains a newline");
    exercise(line);
  }
  return 0;
}
