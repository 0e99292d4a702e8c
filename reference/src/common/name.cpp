// The portable-name rule of npipe/name.hpp (spec NAME-1): shared by every platform.
#include "npipe/name.hpp"

namespace npipe {
namespace {

constexpr std::size_t kMaxPortableLength = 80;

bool is_portable_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
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

}  // namespace npipe
