// Names -> Windows pipe names (spec NAME-1..3; Microsoft's "Pipe Names").
//
//  - A portable name NAME (npipe/name.hpp) becomes \\.\pipe\NAME.
//  - Anything else must already be a pipe name: it starts with \\.\pipe\ (the prefix in any case,
//    as Windows compares it) and is used exactly as given.
//  - invalid_name, and nothing is created, when the name is empty, holds a NUL (both checked by
//    the front end, common/name.cpp), is not valid
//    UTF-8, holds '/' (Win32 path parsing would turn it into '\', so the pipe reached would not
//    be the name asked for), has nothing after the prefix, or is longer than the 256 characters
//    (UTF-16 units) the CreateNamedPipe documentation allows for the whole string.
// Both profiles use the same rule: FIFO and channel names share the \\.\pipe\ namespace.
#include <string>

#include "common/backend.hpp"
#include "npipe/error.hpp"
#include "win32/wide.hpp"

namespace npipe::backend {
namespace {

constexpr std::string_view kPrefix = "\\\\.\\pipe\\";
constexpr std::size_t kMaxPipeNameUnits = 256;

bool has_pipe_prefix(std::string_view name) noexcept {
  if (name.size() < kPrefix.size()) return false;
  for (std::size_t i = 0; i < kPrefix.size(); ++i) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kPrefix[i]) return false;
  }
  return true;
}

}  // namespace

// Empty names and NUL bytes were refused by the front end (common/name.cpp).
std::string platform_name(std::string_view name, name_kind kind) {
  std::string full;
  if (is_portable_name(name)) {
    full = std::string(kPrefix) + std::string(name);
  } else if (has_pipe_prefix(name)) {
    full = std::string(name);
    if (full.size() == kPrefix.size()) reject_name(kind, "nothing follows \\\\.\\pipe\\");
  } else {
    reject_name(kind, "'" + std::string(name) +
                          "' is neither a portable name ([A-Za-z0-9._-], 1 to 80 characters, not "
                          "starting with '.') nor a pipe name starting with \\\\.\\pipe\\");
  }
  if (full.find('/') != std::string::npos) {
    reject_name(kind, "the name contains '/', which Windows would read as '\\'");
  }
  auto wide = win32::to_wide(full);
  if (!wide) reject_name(kind, "the name is not valid UTF-8");
  if (wide->size() > kMaxPipeNameUnits) {
    reject_name(kind, "the pipe name is " + std::to_string(wide->size()) +
                          " characters long; Windows allows at most " +
                          std::to_string(kMaxPipeNameUnits));
  }
  return full;
}

}  // namespace npipe::backend
