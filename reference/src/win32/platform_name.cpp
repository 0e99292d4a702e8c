// Names -> Windows pipe names (spec NAME-1..3; Microsoft's "Pipe Names").
//
//  - A portable name NAME (npipe/name.hpp) becomes \\.\pipe\NAME.
//  - Anything else must already be a pipe name: it starts with \\.\pipe\ (the prefix in any case,
//    as Windows compares it) and is used exactly as given.
//  - invalid_name, and nothing is created, when the name is empty, holds a NUL, is not valid
//    UTF-8, holds '/' (Win32 path parsing would turn it into '\', so the pipe reached would not
//    be the name asked for), has nothing after the prefix, or is longer than the 256 characters
//    (UTF-16 units) the CreateNamedPipe documentation allows for the whole string.
// Both profiles use the same rule: FIFO and channel names share the \\.\pipe\ namespace.
#include <string>

#include "npipe/error.hpp"
#include "npipe/name.hpp"
#include "win32/wide.hpp"

namespace npipe {
namespace {

constexpr std::string_view kPrefix = "\\\\.\\pipe\\";
constexpr std::size_t kMaxPipeNameUnits = 256;

const char* kind_word(name_kind kind) noexcept {
  return kind == name_kind::fifo ? "FIFO" : "channel";
}

[[noreturn]] void reject(name_kind kind, const std::string& why) {
  throw error(errc::invalid_name, std::string("invalid ") + kind_word(kind) + " name: " + why);
}

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

std::string platform_name(std::string_view name, name_kind kind) {
  if (name.empty()) reject(kind, "the name is empty");
  const auto nul = name.find('\0');
  if (nul != std::string_view::npos) {
    reject(kind, "the name contains a NUL byte at offset " + std::to_string(nul));
  }
  std::string full;
  if (is_portable_name(name)) {
    full = std::string(kPrefix) + std::string(name);
  } else if (has_pipe_prefix(name)) {
    full = std::string(name);
    if (full.size() == kPrefix.size()) reject(kind, "nothing follows \\\\.\\pipe\\");
  } else {
    reject(kind, "'" + std::string(name) +
                     "' is neither a portable name ([A-Za-z0-9._-], 1 to 80 characters, not "
                     "starting with '.') nor a pipe name starting with \\\\.\\pipe\\");
  }
  if (full.find('/') != std::string::npos) {
    reject(kind, "the name contains '/', which Windows would read as '\\'");
  }
  auto wide = win32::to_wide(full);
  if (!wide) reject(kind, "the name is not valid UTF-8");
  if (wide->size() > kMaxPipeNameUnits) {
    reject(kind, "the pipe name is " + std::to_string(wide->size()) +
                     " characters long; Windows allows at most " +
                     std::to_string(kMaxPipeNameUnits));
  }
  return full;
}

}  // namespace npipe
