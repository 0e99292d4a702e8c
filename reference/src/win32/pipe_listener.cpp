// The Windows Channel backend's listener (backend::listening_endpoint):
//
//  - listen: CreateNamedPipe(PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED, plus
//    FILE_FLAG_FIRST_PIPE_INSTANCE on the first instance only; PIPE_TYPE_MESSAGE |
//    PIPE_READMODE_MESSAGE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS, PIPE_UNLIMITED_INSTANCES,
//    65536, 65536) with the DACL of win32/security.hpp. A name held by anything live gives
//    already_exists (CHAN-LISTEN-2). listener_options::backlog instances (at most 64) wait at
//    once, each with an overlapped ConnectNamedPipe pending (win32/listener_pool.hpp), so that
//    many clients connect before any accept, as POSIX's listen(2) backlog lets them.
//  - accept: waits until the deadline for whichever instance a client connected to; on timeout
//    nothing is cancelled (the instances keep waiting). ERROR_PIPE_CONNECTED and ERROR_NO_DATA
//    are a success, as in CPython. The connected instance becomes the connection and a new one
//    is made at once, so one is always listening (CHAN-LISTEN-7). Accepted connections are server
//    instances: the name lives until the listener AND every accepted connection are closed.
#include <memory>
#include <string>
#include <utility>

#include "common/backend.hpp"
#include "npipe/error.hpp"
#include "win32/errors.hpp"
#include "win32/listener_pool.hpp"
#include "win32/pipe_channel.hpp"
#include "win32/security.hpp"
#include "win32/wide.hpp"

namespace npipe::win32 {
namespace {

// As CPython 3.14's Listener (65536; 8192 before): advisory sizes of each direction's buffer.
constexpr DWORD kBufferSize = 65536;

unique_handle create_channel_instance(const std::string& path, unsigned mode, bool first) {
  auto wide = to_wide(path);
  if (!wide) throw error(errc::invalid_name, "listen '" + path + "': the name is not valid UTF-8");
  pipe_security security(mode);
  DWORD open_mode = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED;
  if (first) open_mode |= FILE_FLAG_FIRST_PIPE_INSTANCE;
  const DWORD pipe_mode =
      PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS;
  HANDLE h = ::CreateNamedPipeW(wide->c_str(), open_mode, pipe_mode, PIPE_UNLIMITED_INSTANCES,
                                kBufferSize, kBufferSize, 0, security.attributes());
  if (h == INVALID_HANDLE_VALUE) {
    const DWORD err = ::GetLastError();
    const std::string what = "listen on '" + path + "'";
    // FILE_FLAG_FIRST_PIPE_INSTANCE on a live name: ERROR_ACCESS_DENIED (CreateNamedPipe
    // page); a live name whose
    // instances are all taken (a FIFO): ERROR_PIPE_BUSY.
    if (first && (err == ERROR_ACCESS_DENIED || err == ERROR_PIPE_BUSY)) {
      throw_win32(errc::already_exists, err, what + ": the name is held by a live pipe");
    }
    throw_win32(err, what + (first ? "" : ": a new instance"));
  }
  return unique_handle(h);
}

class pipe_listener final : public backend::listening_endpoint {
 public:
  pipe_listener(const std::string& path, const listener_options& opts)
      : path_(path),
        pool_([path,
               mode = opts.mode](bool first) { return create_channel_instance(path, mode, first); },
              opts.backlog) {}

  std::unique_ptr<backend::message_stream> accept(deadline d) override {
    unique_handle taken;
    if (pool_.accept(d, taken, "accept on '" + path_ + "'") == listener_pool::outcome::timed_out) {
      return nullptr;
    }
    return make_pipe_stream(std::move(taken), path_);
  }

  native_handle_t native_handle() const noexcept override { return pool_.any_instance(); }

 private:
  std::string path_;
  listener_pool pool_;  // the waiting instances; its destructor cancels and closes them
};

}  // namespace
}  // namespace npipe::win32

namespace npipe::backend {

std::unique_ptr<listening_endpoint> listen(const std::string& path, const listener_options& opts) {
  return std::make_unique<win32::pipe_listener>(path, opts);
}

}  // namespace npipe::backend
