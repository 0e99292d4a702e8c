// The POSIX listener's socket: unlink before close (CHAN-LISTEN-5), and accepted sockets that are
// close-on-exec from the start, with accept4 wherever the system has it.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>

#include "npipe/channel.hpp"
#include "posix/unix_liveness.hpp"
#include "posix/unix_socket.hpp"
#include "support.hpp"

namespace {

// What the unlink(2) below saw when the library removed the watched path.
struct unlink_watch {
  std::mutex mutex;
  std::string path;          // the path to watch ("" = none)
  int calls = 0;             // unlinks of that path
  bool listening = false;    // a socket still listened on it at the moment of the unlink
  bool probe_known = false;  // the kernel could say (sock_diag)
};
unlink_watch& watch() {
  static unlink_watch w;
  return w;
}

}  // namespace

#ifdef __linux__
// The test binary's own unlink(2): the library (linked statically into this binary) calls it when a
// listener removes its socket file. For the watched path it asks the kernel, before the file goes,
// whether a socket still listens on it; every call is then done by unlinkat(2), which is not
// interposed. Linux only: the lookup is sock_diag's.
extern "C" int unlink(const char* path) noexcept {
  {
    unlink_watch& w = watch();
    std::lock_guard<std::mutex> lock(w.mutex);
    if (!w.path.empty() && w.path == path) {
      ++w.calls;
      struct stat st {};
      if (::lstat(path, &st) == 0) {
        const auto found = npipe::posix::lookup_listener(st);
        w.probe_known = found != npipe::posix::listener_lookup::unknown;
        w.listening = found == npipe::posix::listener_lookup::listening;
      }
    }
  }
  return ::unlinkat(AT_FDCWD, path, 0);
}

// NPIPE_REQ: CHAN-LISTEN-5
// Closing a listener removes its socket file while the socket still listens, then closes it (as
// libuv does): between the two, a starting listener would find the file stale and replace it, and
// the closing one could then remove the newcomer's live socket.
TEST(PosixListenerSocket, CloseUnlinksWhileTheSocketStillListens) {
  using namespace std::chrono_literals;
  npipe::test::watchdog dog(10s);
  npipe::test::temp_dir dir;
  const std::string path = dir.file("s");
  auto l = npipe::listener::listen(path);
  {
    std::lock_guard<std::mutex> lock(watch().mutex);
    watch().path = path;
    watch().calls = 0;
  }
  l.close();
  std::lock_guard<std::mutex> lock(watch().mutex);
  watch().path.clear();
  ASSERT_EQ(watch().calls, 1) << "close() did not unlink the socket file exactly once";
  ASSERT_TRUE(watch().probe_known) << "sock_diag could not tell (needs Linux sock_diag)";
  EXPECT_TRUE(watch().listening)
      << "the socket was closed before its file was removed: a new listener could have "
         "replaced the file in between";
  struct stat st {};
  EXPECT_NE(::lstat(path.c_str(), &st), 0) << "the socket file is still there";
}
#endif  // __linux__

namespace {

// A listening, non-blocking AF_UNIX socket at `path` and a client connected to it.
struct listening_pair {
  npipe::posix::unique_fd listen_fd;
  npipe::posix::unique_fd client;
};

listening_pair make_pair_at(const std::string& path) {
  listening_pair p;
  p.listen_fd = npipe::posix::make_unix_stream_socket();
  const auto a = npipe::posix::make_unix_address(path);
  EXPECT_EQ(::bind(p.listen_fd.get(), reinterpret_cast<const sockaddr*>(&a.addr), a.size), 0);
  EXPECT_EQ(::listen(p.listen_fd.get(), 4), 0);
  npipe::posix::set_nonblocking(p.listen_fd.get(), true, "test");
  p.client = npipe::posix::make_unix_stream_socket();
  EXPECT_EQ(::connect(p.client.get(), reinterpret_cast<const sockaddr*>(&a.addr), a.size), 0);
  return p;
}

void expect_cloexec_and_blocking(int fd) {
  ASSERT_GE(fd, 0);
  EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0) << "not close-on-exec";
  EXPECT_EQ(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0) << "inherited O_NONBLOCK";
}

}  // namespace

// NPIPE_REQ: CHAN-ACCEPT-1
TEST(PosixListenerSocket, AcceptedSocketIsCloseOnExecAndBlocking) {
  using namespace std::chrono_literals;
  npipe::test::watchdog dog(10s);
  npipe::test::temp_dir dir;
  auto p = make_pair_at(dir.file("s"));
  int err = -1;
  npipe::posix::unique_fd fd = npipe::posix::accept_client(p.listen_fd.get(), err);
  EXPECT_EQ(err, 0);
  expect_cloexec_and_blocking(fd.get());
  // Nothing else waits: EAGAIN, reported, not thrown, no descriptor.
  npipe::posix::unique_fd none = npipe::posix::accept_client(p.listen_fd.get(), err);
  EXPECT_FALSE(none.valid());
  EXPECT_TRUE(err == EAGAIN || err == EWOULDBLOCK) << std::strerror(err);
#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__) || \
    defined(__DragonFly__)
  // These systems have accept4: the build must have found it, so no fork+exec race remains.
#ifndef NPIPE_HAVE_ACCEPT4
  ADD_FAILURE() << "accept4 exists on this system but the build did not find it";
#endif
#endif
}

// The fallback for systems without accept4 (macOS): run here too, so its checks are tested.
TEST(PosixListenerSocket, AcceptFallbackSetsCloseOnExecAndChecksItsErrors) {
  using namespace std::chrono_literals;
  npipe::test::watchdog dog(10s);
  npipe::test::temp_dir dir;
  auto p = make_pair_at(dir.file("s"));
  int err = -1;
  npipe::posix::unique_fd fd = npipe::posix::accept_client_fallback(p.listen_fd.get(), err);
  EXPECT_EQ(err, 0);
  expect_cloexec_and_blocking(fd.get());
  // A failure is reported with its errno, never ignored.
  npipe::posix::unique_fd bad = npipe::posix::accept_client_fallback(-1, err);
  EXPECT_FALSE(bad.valid());
  EXPECT_EQ(err, EBADF);
  EXPECT_EQ(npipe::posix::set_cloexec(-1), EBADF);
}
