// bind + chmod + listen, with the stale-socket takeover of CHAN-LISTEN-3.
#include "posix/unix_listener_socket.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "posix/errors.hpp"
#include "posix/unix_liveness.hpp"
#include "posix/unix_socket.hpp"

namespace npipe::posix {
namespace {

// How often we take over a stale file and still lose the bind to a racing process before we
// report already_exists: each round means someone else really is creating the name.
constexpr int kBindAttempts = 4;

std::string octal(unsigned mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0%o", mode);
  return buf;
}

const char* file_type_name(mode_t m) noexcept {
  if (S_ISREG(m)) return "a regular file";
  if (S_ISDIR(m)) return "a directory";
  if (S_ISLNK(m)) return "a symbolic link";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  return "a file that is not a socket";
}

// Sets the mode of the socket file we just bound, without following a symlink that might have
// replaced it; chmod(2) only where the C library cannot do that (old glibc without /proc).
void set_socket_file_mode(const std::string& path, unsigned mode) {
  if (::fchmodat(AT_FDCWD, path.c_str(), mode, AT_SYMLINK_NOFOLLOW) == 0) return;
  int err = errno;
  if ((err == ENOTSUP || err == EOPNOTSUPP) && ::chmod(path.c_str(), mode) == 0) return;
  throw_errno(err, "chmod " + octal(mode) + " of the socket file '" + path + "'");
}

// Why bind() found the address in use, when the existing file must be kept; or "" when it is a
// stale socket that may be replaced.
std::string reason_to_keep(const std::string& path, const struct stat& st) {
  if (!S_ISSOCK(st.st_mode)) {
    return std::string("the path is ") + file_type_name(st.st_mode) +
           ", not a socket; left untouched";
  }
  // Ask the kernel first (Linux sock_diag), then the datagram probe, which a live listener never
  // sees (a stream connect() would be accepted by it as a client: CHAN-LISTEN-2, -3).
  if (lookup_listener(st) == listener_lookup::listening) {
    return "a listener is live on this socket file";
  }
  switch (probe_by_connect(path)) {
    case connect_probe::answered:
      return "a listener is live on this socket file";
    case connect_probe::undecided:
      return "a socket file is there and it cannot be told whether anyone listens on it; left "
             "untouched";
    case connect_probe::refused:
      break;
  }
  return {};
}

}  // namespace

bound_listener bind_unix_listener(const std::string& path, unsigned mode, int backlog) {
  if (mode > 07777) {
    throw npipe::error(errc::unsupported, "listener mode " + octal(mode) +
                                              " has bits outside the permission bits 07777");
  }
  const unix_address a = make_unix_address(path);
  const std::string where = "listen on '" + path + "'";
  for (int attempt = 0; attempt < kBindAttempts; ++attempt) {
    unique_fd fd = make_unix_stream_socket();
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a.addr), a.size) == 0) {
      // Clients are refused until listen(), so the mode is right before anyone can get in.
      struct stat made;
      if (::lstat(path.c_str(), &made) != 0 || !S_ISSOCK(made.st_mode)) {
        throw npipe::error(errc::io_error,
                           where + ": the socket file vanished or was replaced right after bind");
      }
      try {
        set_socket_file_mode(path, mode);
        struct stat checked;
        if (::lstat(path.c_str(), &checked) != 0 || checked.st_ino != made.st_ino ||
            checked.st_dev != made.st_dev || (checked.st_mode & 07777) != mode) {
          throw npipe::error(errc::io_error,
                             where + ": the socket file changed while its mode was set");
        }
        if (::listen(fd.get(), backlog) != 0) throw_errno(errno, where + ": listen");
        // Non-blocking, so an accept after poll() never blocks on a client that left meanwhile.
        set_nonblocking(fd.get(), true, where.c_str());
      } catch (...) {
        unlink_if_same_socket(path, made.st_dev, made.st_ino);  // leave no half-made listener
        throw;
      }
      return {std::move(fd), made.st_dev, made.st_ino};
    }
    int err = errno;
    if (err != EADDRINUSE) {
      if (err == ENOENT || err == ENOTDIR) {
        throw_errno(errc::not_found, err, where + ": the directory does not exist");
      }
      throw_errno(err, where + ": bind");
    }
    struct stat existing;
    if (::lstat(path.c_str(), &existing) != 0) continue;  // removed meanwhile: bind again
    std::string keep = reason_to_keep(path, existing);
    if (!keep.empty()) throw_errno(errc::already_exists, err, where + ": " + keep);
    // Stale (CHAN-LISTEN-3). Remove it only if it is still the file we probed.
    unlink_if_same_socket(path, existing.st_dev, existing.st_ino);
  }
  throw npipe::error(errc::already_exists,
                     where + ": another process keeps creating this name while we replace it");
}

void unlink_if_same_socket(const std::string& path, dev_t dev, ino_t ino) noexcept {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return;
  if (!S_ISSOCK(st.st_mode) || st.st_dev != dev || st.st_ino != ino) return;
  ::unlink(path.c_str());
}

}  // namespace npipe::posix
