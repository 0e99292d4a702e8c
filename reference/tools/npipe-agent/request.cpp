// npipe-agent/request.cpp: parsing and checking of one driver-protocol command (request.hpp).
#include "request.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

#include "npipe/error.hpp"
#include "protocol/codec.hpp"

namespace npipe::agent {
namespace {

// Longer deadlines are clamped to this (about 31 years): beyond it steady_clock arithmetic could
// overflow, and no scenario can tell the difference.
constexpr std::int64_t kMaxTimeoutMs = 1'000'000'000'000;

const char* type_name(const nlohmann::json& v) {
  return v.type_name();
}

}  // namespace

void bad_field(const char* field, const std::string& what) {
  throw npipe::error(npipe::errc::protocol_error, std::string(field) + ": " + what);
}

void payload::fill(std::uint8_t* out, std::size_t n, std::uint64_t offset) const {
  if (is_pattern) {
    npipe::protocol::fill_pattern(out, n, seed, offset);
  } else {
    std::copy_n(data.data() + offset, n, out);
  }
}

request::request(std::string_view line) : id_(nullptr) {
  doc_ = nlohmann::json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (doc_.is_discarded()) {
    problem_ = "line: not a JSON value";
    return;
  }
  if (!doc_.is_object()) {
    problem_ = std::string("line: a JSON object expected, not ") + type_name(doc_);
    return;
  }
  auto id = doc_.find("id");
  if (id == doc_.end()) {
    problem_ = "id: missing";
    return;
  }
  id_ = *id;  // echoed even when it is of the wrong type, so the driver can match the reply
  if (!id->is_number_integer()) {
    problem_ = std::string("id: an integer expected, not ") + type_name(*id);
    return;
  }
  auto op = doc_.find("op");
  if (op == doc_.end()) {
    problem_ = "op: missing";
  } else if (!op->is_string()) {
    problem_ = std::string("op: a string expected, not ") + type_name(*op);
  } else {
    op_ = op->get<std::string>();
  }
}

void request::check() const {
  if (!problem_.empty()) throw npipe::error(npipe::errc::protocol_error, problem_);
}

const nlohmann::json* request::find(const char* field) const {
  if (!doc_.is_object()) return nullptr;
  auto it = doc_.find(field);
  return it == doc_.end() ? nullptr : &*it;
}

bool request::has(const char* field) const {
  return find(field) != nullptr;
}

std::string request::string_field(const char* field) const {
  auto v = optional_string(field);
  if (!v) bad_field(field, "missing");
  return *v;
}

std::optional<std::string> request::optional_string(const char* field) const {
  const nlohmann::json* v = find(field);
  if (!v) return std::nullopt;
  if (!v->is_string()) bad_field(field, std::string("a string expected, not ") + type_name(*v));
  return v->get<std::string>();
}

std::optional<std::int64_t> request::optional_int(const char* field, std::int64_t min,
                                                  std::int64_t max) const {
  const nlohmann::json* v = find(field);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) {
    bad_field(field, std::string("an integer expected, not ") + type_name(*v));
  }
  bool in_range;
  std::int64_t value = 0;
  if (v->is_number_unsigned()) {
    auto u = v->get<std::uint64_t>();
    in_range = u <= static_cast<std::uint64_t>(max);
    value = in_range ? static_cast<std::int64_t>(u) : max;
  } else {
    value = v->get<std::int64_t>();
    in_range = value >= min && value <= max;
  }
  if (!in_range || value < min) {
    bad_field(field, "out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return value;
}

bool request::optional_bool(const char* field, bool fallback) const {
  const nlohmann::json* v = find(field);
  if (!v) return fallback;
  if (!v->is_boolean()) bad_field(field, std::string("a boolean expected, not ") + type_name(*v));
  return v->get<bool>();
}

std::optional<std::string> request::optional_bytes(const char* field) const {
  auto text = optional_string(field);
  if (!text) return std::nullopt;
  auto bytes = npipe::protocol::base64_decode(*text);
  if (!bytes) bad_field(field, "not valid base64 (RFC 4648, with padding)");
  return bytes;
}

npipe::direction request::dir() const {
  std::string d = string_field("dir");
  if (d == "r") return npipe::direction::read;
  if (d == "w") return npipe::direction::write;
  bad_field("dir", "\"r\" or \"w\" expected");
}

npipe::deadline request::deadline() const {
  auto ms = optional_int("timeout_ms", 0, std::numeric_limits<std::int64_t>::max());
  if (!ms) return npipe::deadline::forever();
  if (*ms == 0) return npipe::deadline::immediate();
  return npipe::deadline::after(std::chrono::milliseconds(std::min(*ms, kMaxTimeoutMs)));
}

payload request::data_or_pattern() const {
  const nlohmann::json* pattern = find("pattern");
  bool has_data = has("data");
  if (has_data && pattern) bad_field("pattern", "give either data or pattern, not both");
  payload p;
  if (has_data) {
    p.data = *optional_bytes("data");
    p.size = p.data.size();
    return p;
  }
  if (!pattern) bad_field("data", "missing (or pattern)");
  if (!pattern->is_object()) {
    bad_field("pattern", std::string("an object expected, not ") + type_name(*pattern));
  }
  auto size = pattern->find("size");
  auto seed = pattern->find("seed");
  if (size == pattern->end() || !size->is_number_unsigned()) {
    bad_field("pattern.size", "a non-negative integer expected");
  }
  if (seed == pattern->end() || !seed->is_number_unsigned() || seed->get<std::uint64_t>() > 255) {
    bad_field("pattern.seed", "an integer in [0, 255] expected");
  }
  p.is_pattern = true;
  p.size = size->get<std::uint64_t>();
  p.seed = static_cast<unsigned>(seed->get<std::uint64_t>());
  return p;
}

}  // namespace npipe::agent
