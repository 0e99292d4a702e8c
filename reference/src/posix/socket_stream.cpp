// The POSIX Channel backend's connection (backend::message_stream): an AF_UNIX stream socket
// carrying Python's multiprocessing.connection length framing (CHAN-FRAME-*), received by
// frame_reader, which never reads past the message it is receiving.
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <memory>
#include <utility>

#include "common/backend.hpp"
#include "common/framing.hpp"
#include "npipe/error.hpp"
#include "posix/errors.hpp"
#include "posix/frame_reader.hpp"
#include "posix/socket_io.hpp"
#include "posix/socket_stream.hpp"
#include "posix/unique_fd.hpp"
#include "posix/unix_socket.hpp"
#include "posix/wait.hpp"

namespace npipe::posix {
namespace {

class socket_stream final : public backend::message_stream {
 public:
  explicit socket_stream(unique_fd fd) : fd_(std::move(fd)) {}

  backend::progress send(const std::uint8_t* data, std::size_t n, deadline d) override {
    const framing::header h = framing::encode_header(n);
    return send_two_parts(fd_.get(), h.bytes.data(), h.size, data, n, d);
  }

  received receive(std::size_t maxlength, deadline d, bytes& out) override {
    return reader_.read(fd_.get(), maxlength, d, out);
  }

  received receive_into(std::uint8_t* buf, std::size_t capacity, deadline d,
                        std::size_t& length) override {
    return reader_.read_into(fd_.get(), buf, capacity, d, length);
  }

  bool wait_readable(deadline d) override {
    // As CPython: readable data or EOF on the socket, not necessarily a whole message.
    return wait_fd(fd_.get(), POLLIN, d, "a channel socket") != 0;
  }

  bool stream_lost() const noexcept override { return reader_.stream_lost(); }
  bool holds_partial_message() const noexcept override { return reader_.holds_partial_message(); }

  peer_credentials peer() const override {
    peer_credentials c;
#if defined(__linux__)
    struct ucred u {};
    socklen_t len = sizeof u;
    if (::getsockopt(fd_.get(), SOL_SOCKET, SO_PEERCRED, &u, &len) != 0) {
      throw_errno(errno, "getsockopt(SO_PEERCRED) on a channel socket");
    }
    c.pid = u.pid;
    c.uid = u.uid;
    c.gid = u.gid;
#else
    uid_t uid = 0;
    gid_t gid = 0;
    if (::getpeereid(fd_.get(), &uid, &gid) != 0) throw_errno(errno, "getpeereid on a channel");
    c.uid = uid;
    c.gid = gid;
#if defined(LOCAL_PEERPID)
    pid_t pid = 0;
    socklen_t len = sizeof pid;
    if (::getsockopt(fd_.get(), SOL_LOCAL, LOCAL_PEERPID, &pid, &len) == 0) c.pid = pid;
#endif
#endif
    return c;
  }

  native_handle_t native_handle() const noexcept override {
    return fd_.get();
  }
  native_handle_t release() noexcept override {
    return fd_.release();
  }

 private:
  unique_fd fd_;
  frame_reader reader_;
};

}  // namespace

std::unique_ptr<backend::message_stream> make_socket_stream(unique_fd fd) {
  return std::make_unique<socket_stream>(std::move(fd));
}

}  // namespace npipe::posix

namespace npipe::backend {

std::unique_ptr<message_stream> connect(const std::string& path, deadline d) {
  return posix::make_socket_stream(posix::connect_unix(path, d));
}

std::unique_ptr<message_stream> adopt_connection(native_handle_t h) {
  posix::unique_fd fd(h);  // ours from here on, closed on any failure below
  const char* what = "adopt a channel socket";
  if (!fd) throw error(errc::io_error, std::string(what) + ": not a descriptor (-1)");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) posix::throw_errno(errno, what);
  if (!S_ISSOCK(st.st_mode)) {
    throw error(errc::not_a_pipe, std::string(what) + ": the descriptor is not a socket");
  }
  int type = 0;
  socklen_t len = sizeof type;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_TYPE, &type, &len) != 0) {
    posix::throw_errno(errno, what);
  }
  sockaddr_un addr{};
  socklen_t alen = sizeof addr;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &alen) != 0) {
    posix::throw_errno(errno, what);
  }
  if (type != SOCK_STREAM || addr.sun_family != AF_UNIX) {
    throw error(errc::not_a_pipe, std::string(what) + ": not an AF_UNIX stream socket");
  }
  posix::set_nonblocking(fd.get(), false, what);
  return posix::make_socket_stream(std::move(fd));
}

}  // namespace npipe::backend
