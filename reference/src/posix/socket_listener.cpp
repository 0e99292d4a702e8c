// The POSIX Channel backend's listener (backend::listening_endpoint): a listening AF_UNIX socket
// at a path (unix_listener_socket.hpp), non-blocking, accepting with accept4(SOCK_CLOEXEC) where
// the system has it.
#include <errno.h>

#include <memory>
#include <string>
#include <utility>

#include "common/backend.hpp"
#include "posix/errors.hpp"
#include "posix/socket_stream.hpp"
#include "posix/unix_listener_socket.hpp"
#include "posix/unix_socket.hpp"
#include "posix/wait.hpp"

namespace npipe::posix {
namespace {

class socket_listener final : public backend::listening_endpoint {
 public:
  socket_listener(bound_listener socket, std::string path)
      : socket_(std::move(socket)), path_(std::move(path)) {}

  // Unlink first, then close, as libuv's uv__pipe_close does (src/unix/pipe.c). While our socket
  // still listens, a listener starting at the same path meets a live socket and gives up
  // (already_exists, CHAN-LISTEN-2); once it is closed, that listener may judge the file stale,
  // remove it and bind its own, and our check-then-unlink could then remove the new, live
  // socket. Unlinking while we still listen leaves no such window: whatever a starting listener
  // finds is either our live socket or nothing (CHAN-LISTEN-5).
  ~socket_listener() override {
    unlink_if_same_socket(path_, socket_.dev, socket_.ino);
    socket_.fd.reset();
  }

  std::unique_ptr<backend::message_stream> accept(deadline d) override {
    const int lfd = socket_.fd.get();
    // Take a client already waiting first (the listening socket is non-blocking), then wait: a
    // busy listener makes one system call per client instead of two.
    for (;;) {
      int err = 0;
      unique_fd fd = accept_client(lfd, err);
      if (fd) return make_socket_stream(std::move(fd));
      if (err == EINTR || err == ECONNABORTED) continue;  // a client that left before accept
      if (err != EAGAIN && err != EWOULDBLOCK) throw_errno(err, "accept on '" + path_ + "'");
      // Nothing to take (yet, or another thread took it): wait for the next client.
      if (wait_fd(lfd, POLLIN, d, "a listening socket") == 0) return nullptr;
    }
  }

  native_handle_t native_handle() const noexcept override { return socket_.fd.get(); }

 private:
  bound_listener socket_;
  std::string path_;
};

}  // namespace
}  // namespace npipe::posix

namespace npipe::backend {

std::unique_ptr<listening_endpoint> listen(const std::string& path, const listener_options& opts) {
  return std::make_unique<posix::socket_listener>(
      posix::bind_unix_listener(path, opts.mode, opts.backlog), path);
}

}  // namespace npipe::backend
