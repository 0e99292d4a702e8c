// posix/files.cpp: the driver's look at the file system and what it makes there (see
// support.hpp), with lstat, mkfifo, mkdir, symlink, an AF_UNIX bind and unlink.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "support.hpp"

namespace npipe::conformance::support {

std::optional<path_info> lstat_of(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return std::nullopt;
  path_kind k = S_ISFIFO(st.st_mode)   ? path_kind::fifo
                : S_ISSOCK(st.st_mode) ? path_kind::socket
                : S_ISDIR(st.st_mode)  ? path_kind::directory
                : S_ISREG(st.st_mode)  ? path_kind::file
                : S_ISLNK(st.st_mode)  ? path_kind::symlink
                                       : path_kind::other;
  return path_info{k, static_cast<unsigned>(st.st_mode & 07777), static_cast<unsigned>(st.st_uid),
                   static_cast<std::uint64_t>(st.st_ino)};
}

void make_fifo(scene& s, const std::string& path) {
  if (::mkfifo(path.c_str(), 0600) != 0) s.fail("driver: mkfifo " + path + " failed");
  s.driver_made(path);
}

void make_directory(scene& s, const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0) s.fail("driver: mkdir " + path + " failed");
  s.driver_made(path);
}

void make_symlink(scene& s, const std::string& path, const std::string& target) {
  if (::symlink(target.c_str(), path.c_str()) != 0) s.fail("driver: symlink " + path + " failed");
  s.driver_made(path);
}

void make_socket_file(scene& s, const std::string& path, bool keep_open) {
#ifdef SOCK_CLOEXEC
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
#else  // macOS: agents are spawned with POSIX_SPAWN_CLOEXEC_DEFAULT, so none inherits it
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd >= 0) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
#endif
  if (fd < 0) s.fail("driver: socket failed");
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  if (keep_open)
    s.adopt_fd(fd);
  else
    ::close(fd);
  if (!bound) s.fail("driver: cannot bind a socket at " + path);
  s.driver_made(path);
}

void remove_name(const std::string& path) {
  ::unlink(path.c_str());
}

bool driver_is_root() {
  return ::geteuid() == 0;
}

void give_to_user(scene& s, const std::string& path, unsigned uid, unsigned mode) {
  if (::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0 ||
      ::chown(path.c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(uid)) != 0)
    s.fail("driver: cannot give " + path + " to uid " + std::to_string(uid));
}

void hold_fifo_open(scene& s, const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) s.fail("driver: cannot open the FIFO " + path);
  s.adopt_fd(fd);
}

}  // namespace npipe::conformance::support
