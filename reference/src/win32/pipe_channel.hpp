// The Windows connection (backend::message_stream over a message-mode pipe handle), for the
// listener's accepted instances and the client's connected handles.
#pragma once

#include <memory>
#include <string>

#include "common/backend.hpp"
#include "win32/unique_handle.hpp"

namespace npipe::win32 {

// A connection over `h`, a message-mode pipe handle in PIPE_READMODE_MESSAGE, overlapped.
std::unique_ptr<backend::message_stream> make_pipe_stream(unique_handle h, std::string path);

}  // namespace npipe::win32
