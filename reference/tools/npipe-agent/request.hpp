// npipe-agent/request.hpp: one command of the driver protocol (spec/driver-protocol.md), parsed
// and checked. This file and request.cpp take untrusted input and are the agent's fuzz target:
// no input may crash them, and every malformed one is a protocol_error naming the field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "npipe/deadline.hpp"
#include "npipe/fifo.hpp"

namespace npipe::agent {

// Bytes to write or send: literal `data`, or a `pattern` generated piece by piece so that a
// large payload never has to be held in memory (section 3, "Patterns").
struct payload {
  std::string data;  // when !is_pattern
  bool is_pattern = false;
  std::uint64_t size = 0;  // of the pattern, or data.size()
  unsigned seed = 0;

  // Bytes [offset, offset + n) of the payload into out.
  void fill(std::uint8_t* out, std::size_t n, std::uint64_t offset) const;
};

class request {
 public:
  // Parses one line; never throws. A line that is not a JSON object with an integer "id" and a
  // string "op" is kept as malformed: check() then throws.
  explicit request(std::string_view line);

  // The id to echo: the command's own, or null when it has none.
  const nlohmann::json& id() const noexcept { return id_; }
  const std::string& op() const noexcept { return op_; }
  // Throws protocol_error when the line itself was malformed.
  void check() const;

  bool has(const char* field) const;
  std::string string_field(const char* field) const;  // required
  std::optional<std::string> optional_string(const char* field) const;
  // An integer in [min, max]; nullopt when absent.
  std::optional<std::int64_t> optional_int(const char* field, std::int64_t min,
                                           std::int64_t max) const;
  bool optional_bool(const char* field, bool fallback) const;
  // A base64 field decoded; nullopt when absent.
  std::optional<std::string> optional_bytes(const char* field) const;

  npipe::direction dir() const;      // "dir": "r" or "w", required
  npipe::deadline deadline() const;  // "timeout_ms": absent, 0 or N > 0 (section 3)
  payload data_or_pattern() const;   // exactly one of "data" and "pattern"

 private:
  const nlohmann::json* find(const char* field) const;
  nlohmann::json doc_;
  nlohmann::json id_;
  std::string op_;
  std::string problem_;  // non-empty when malformed
};

// Throws the protocol_error for a bad field: "<field>: <what>".
[[noreturn]] void bad_field(const char* field, const std::string& what);

}  // namespace npipe::agent
