// UTF-8 <-> UTF-16 through MultiByteToWideChar / WideCharToMultiByte.
#include "win32/wide.hpp"

#include <windows.h>

#include <climits>

namespace npipe::win32 {

std::optional<std::wstring> to_wide(std::string_view s) {
  if (s.empty()) return std::wstring();
  if (s.size() > static_cast<std::size_t>(INT_MAX)) return std::nullopt;
  const int in = static_cast<int>(s.size());
  int n = ::MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s.data(), in, nullptr, 0);
  if (n <= 0) return std::nullopt;
  std::wstring out(static_cast<std::size_t>(n), L'\0');
  if (::MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s.data(), in, out.data(), n) != n) {
    return std::nullopt;
  }
  return out;
}

std::string to_utf8(std::wstring_view s) {
  if (s.empty() || s.size() > static_cast<std::size_t>(INT_MAX)) return std::string();
  const int in = static_cast<int>(s.size());
  int n = ::WideCharToMultiByte(CP_UTF8, 0, s.data(), in, nullptr, 0, nullptr, nullptr);
  if (n <= 0) return std::string();
  std::string out(static_cast<std::size_t>(n), '\0');
  ::WideCharToMultiByte(CP_UTF8, 0, s.data(), in, out.data(), n, nullptr, nullptr);
  return out;
}

}  // namespace npipe::win32
