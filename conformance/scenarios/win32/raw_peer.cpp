// win32/raw_peer.cpp: the driver's raw AF_UNIX peer (raw_peer.hpp) is POSIX-only. The scenarios
// that use it declare needs::posix and are SKIP for Windows agents before they start; should one
// be reached on a Windows driver anyway, every call here ends it as SKIP, never FAIL.
#include "raw_peer.hpp"

namespace npipe::conformance::raw {
namespace {
[[noreturn]] void posix_only() {
  throw skipped("the driver's raw AF_UNIX peer needs a POSIX driver");
}
}  // namespace

int connect(scene&, const std::string&, milliseconds) {
  posix_only();
}
int listen(scene&, const std::string&) {
  posix_only();
}
int accept(scene&, int, milliseconds) {
  posix_only();
}
int listen_full(scene&, const std::string&, int&) {
  posix_only();
}
void send(scene&, int, std::string_view, milliseconds) {
  posix_only();
}
std::optional<std::string> recv_exact(scene&, int, std::size_t, milliseconds, std::string*) {
  posix_only();
}
bool sees_eof(scene&, int, milliseconds) {
  posix_only();
}
std::string frame(std::string_view) {
  posix_only();
}
std::string escaped_frame(std::string_view) {
  posix_only();
}
std::string header32(std::int32_t) {
  posix_only();
}
std::optional<std::string> recv_frame(scene&, int, milliseconds, std::uint32_t*) {
  posix_only();
}
std::string hmac(const std::string&, std::string_view, std::string_view) {
  posix_only();
}
std::string random_bytes(std::size_t) {
  posix_only();
}

}  // namespace npipe::conformance::raw
