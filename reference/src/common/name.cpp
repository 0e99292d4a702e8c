// Names (spec NAME-1..3): the portable-name rule and the checks every platform shares; what a
// name maps to is the backend's (backend::platform_name).
#include "npipe/name.hpp"

#include "common/backend.hpp"
#include "common/call.hpp"
#include "npipe/error.hpp"

namespace npipe {
namespace {

constexpr std::size_t kMaxPortableLength = 80;

bool is_portable_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

const char* kind_word(name_kind kind) noexcept {
  return kind == name_kind::fifo ? "FIFO" : "channel";
}

}  // namespace

bool is_portable_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > kMaxPortableLength) return false;
  // A leading '.' would make "." and ".." portable names, and hidden files on POSIX.
  if (name.front() == '.') return false;
  for (char c : name) {
    if (!is_portable_char(c)) return false;
  }
  return true;
}

namespace backend {

void reject_name(name_kind kind, const std::string& why) {
  throw error(errc::invalid_name, std::string("invalid ") + kind_word(kind) + " name: " + why);
}

}  // namespace backend

std::string platform_name(std::string_view name, name_kind kind) {
  if (name.empty()) backend::reject_name(kind, "the name is empty");
  const auto nul = name.find('\0');
  // A leading NUL would be a Linux abstract socket name: npipe does not offer those (they have
  // no permissions, see CPython gh-97514), so it is rejected like any other NUL.
  if (nul != std::string_view::npos) {
    backend::reject_name(kind, "the name contains a NUL byte at offset " + std::to_string(nul));
  }
  return backend::platform_name(name, kind);
}

std::string platform_name(std::string_view name, name_kind kind, std::error_code& ec) noexcept {
  return detail::with_error_code(ec, std::string(), [&] { return platform_name(name, kind); });
}

}  // namespace npipe
