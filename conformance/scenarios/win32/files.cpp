// win32/files.cpp: a Windows driver does not look at the file system for its scenarios (see
// support.hpp): Windows agents get pipe names, which are not files, so nothing is ever found at
// a name, and the checks that make files at a name (needs::posix scenarios, SKIP on Windows
// before they start) end as SKIP should one be reached.
#include "support.hpp"

namespace npipe::conformance::support {

namespace {
[[noreturn]] void posix_only(const char* what) {
  throw skipped(std::string("the driver's ") + what + " needs a POSIX driver");
}
}  // namespace

std::optional<path_info> lstat_of(const std::string&) {
  return std::nullopt;
}

void make_fifo(scene&, const std::string&) {
  posix_only("mkfifo");
}

void make_directory(scene&, const std::string&) {
  posix_only("mkdir at the path");
}

void make_symlink(scene&, const std::string&, const std::string&) {
  posix_only("symlink");
}

void make_socket_file(scene&, const std::string&, bool) {
  posix_only("AF_UNIX socket file");
}

void remove_name(const std::string&) {}

void hold_fifo_open(scene&, const std::string&) {
  posix_only("FIFO held open");
}

bool driver_is_root() {
  return false;
}

void give_to_user(scene&, const std::string&, unsigned, unsigned) {
  posix_only("chown");
}

}  // namespace npipe::conformance::support
