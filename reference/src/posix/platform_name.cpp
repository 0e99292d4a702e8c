// The POSIX backend's names -> paths (spec NAME-1..3). A portable name is a path relative to the
// current directory, as Python's AF_UNIX addresses and mkfifo(1) treat it; anything else is a raw
// path.
#include <limits.h>
#include <sys/un.h>

#include <string>

#include "common/backend.hpp"
#include "npipe/error.hpp"

namespace npipe::backend {
// Empty names and NUL bytes were refused by the front end (common/name.cpp).
std::string platform_name(std::string_view name, name_kind kind) {
  // PATH_MAX counts the terminating NUL.
  if (name.size() >= PATH_MAX) {
    reject_name(kind, "the name is " + std::to_string(name.size()) +
                          " bytes long; paths on this system hold at most " +
                          std::to_string(PATH_MAX - 1));
  }
  if (kind == name_kind::channel) {
    constexpr std::size_t sun_path_max = sizeof(sockaddr_un{}.sun_path) - 1;
    if (name.size() > sun_path_max) {
      reject_name(kind, "the name is " + std::to_string(name.size()) +
                            " bytes long; an AF_UNIX socket path (sun_path) holds at most " +
                            std::to_string(sun_path_max) + " bytes here");
    }
  }
  // Portable names and raw paths alike are used exactly as given: no normalisation, so that
  // the same name reaches the same file from C++, Python and the shell.
  return std::string(name);
}

}  // namespace npipe::backend
