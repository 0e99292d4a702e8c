// fuzz/name_fuzz.cpp: the portable-name rule and the name -> platform mapping on any bytes
// (NAME-1..4).
//
// Checks against the rule as the spec states it: is_portable_name is exactly "1 to 80 characters
// from [A-Za-z0-9._-], not starting with '.'"; on POSIX platform_name either returns the name
// unchanged (NAME-1, NAME-2: no normalisation) or throws invalid_name, and it throws for the empty
// name, any NUL byte, and (channel) more than sun_path can hold (NAME-3, NAME-4); a portable name
// always maps.
#include <sys/un.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "npipe/error.hpp"
#include "npipe/name.hpp"

namespace {

bool reference_portable(std::string_view s) {
  if (s.empty() || s.size() > 80 || s[0] == '.') return false;
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void check_mapping(std::string_view name, npipe::name_kind kind) {
  const bool must_reject =
      name.empty() || name.find('\0') != std::string_view::npos ||
      (kind == npipe::name_kind::channel && name.size() > sizeof(sockaddr_un{}.sun_path) - 1);
  try {
    std::string mapped = npipe::platform_name(name, kind);
    FUZZ_CHECK(!must_reject, "an unrepresentable name was mapped");
    FUZZ_CHECK(mapped == name, "the POSIX mapping changed the name");
  } catch (const npipe::error& e) {
    FUZZ_CHECK(e.value() == npipe::errc::invalid_name, "a name error that is not invalid_name");
    FUZZ_CHECK(!npipe::is_portable_name(name), "a portable name was refused");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view name(reinterpret_cast<const char*>(data), size);
  FUZZ_CHECK(npipe::is_portable_name(name) == reference_portable(name),
             "is_portable_name differs from the rule");
  check_mapping(name, npipe::name_kind::fifo);
  check_mapping(name, npipe::name_kind::channel);
  return 0;
}
