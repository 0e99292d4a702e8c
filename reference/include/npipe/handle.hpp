// npipe/handle.hpp: the one platform type the public API shows, for callers that need to poll a
// descriptor, adopt one (from_native) or take one over (release).
#pragma once

#include <cstdint>

namespace npipe {

#ifdef _WIN32
using native_handle_t = void*;  // a Win32 HANDLE
// INVALID_HANDLE_VALUE, without <windows.h>.
inline const native_handle_t invalid_native_handle =
    reinterpret_cast<native_handle_t>(static_cast<std::intptr_t>(-1));
#else
using native_handle_t = int;  // a file descriptor
inline constexpr native_handle_t invalid_native_handle = -1;
#endif

}  // namespace npipe
