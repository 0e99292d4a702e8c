// npipe/handle.hpp: the one platform type the public API shows, for callers that need to poll.
#pragma once

namespace npipe {

#ifdef _WIN32
using native_handle_t = void*;  // a Win32 HANDLE
#else
using native_handle_t = int;  // a file descriptor
#endif

}  // namespace npipe
