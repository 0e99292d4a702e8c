// Names -> POSIX paths (spec NAME-1..3). A portable name is a path relative to the current
// directory, as Python's AF_UNIX addresses and mkfifo(1) treat it; anything else is a raw path.
#include <limits.h>
#include <sys/un.h>

#include <string>

#include "npipe/error.hpp"
#include "npipe/name.hpp"

namespace npipe {
namespace {

const char* kind_word(name_kind kind) noexcept {
  return kind == name_kind::fifo ? "FIFO" : "channel";
}

[[noreturn]] void reject(name_kind kind, const std::string& why) {
  throw error(errc::invalid_name, std::string("invalid ") + kind_word(kind) + " name: " + why);
}

}  // namespace

std::string platform_name(std::string_view name, name_kind kind) {
  if (name.empty()) reject(kind, "the name is empty");
  const auto nul = name.find('\0');
  // A leading NUL would be a Linux abstract socket name: npipe does not offer those (they have
  // no permissions, see CPython gh-97514), so it is rejected like any other NUL.
  if (nul != std::string_view::npos) {
    reject(kind, "the name contains a NUL byte at offset " + std::to_string(nul));
  }
  // PATH_MAX counts the terminating NUL.
  if (name.size() >= PATH_MAX) {
    reject(kind, "the name is " + std::to_string(name.size()) +
                     " bytes long; paths on this system hold at most " +
                     std::to_string(PATH_MAX - 1));
  }
  if (kind == name_kind::channel) {
    constexpr std::size_t sun_path_max = sizeof(sockaddr_un{}.sun_path) - 1;
    if (name.size() > sun_path_max) {
      reject(kind, "the name is " + std::to_string(name.size()) +
                       " bytes long; an AF_UNIX socket path (sun_path) holds at most " +
                       std::to_string(sun_path_max) + " bytes here");
    }
  }
  // Portable names and raw paths alike are used exactly as given: no normalisation, so that
  // the same name reaches the same file from C++, Python and the shell.
  return std::string(name);
}

}  // namespace npipe
