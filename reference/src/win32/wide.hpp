// UTF-8 <-> UTF-16 for the ...W functions. npipe's names are UTF-8 on every platform.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace npipe::win32 {

// std::nullopt when `s` is not valid UTF-8.
std::optional<std::wstring> to_wide(std::string_view s);

// Invalid UTF-16 becomes U+FFFD.
std::string to_utf8(std::wstring_view s);

}  // namespace npipe::win32
