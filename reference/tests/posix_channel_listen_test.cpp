// Channel profile: listening at an address, what happens to what is already there, and removal.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>

#include "channel_test_util.hpp"
#include "npipe/channel.hpp"
#include "npipe/error.hpp"
#include "support.hpp"

namespace {

using namespace std::chrono_literals;
using npipe::errc;
using npipe::chantest::error_of;

struct stat lstat_or_fail(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string expect_line(npipe::test::process& p, std::chrono::milliseconds limit = 10s) {
  std::string line;
  EXPECT_TRUE(p.read_line(line, limit)) << "the child said nothing";
  return line;
}

// NPIPE_REQ: CHAN-LISTEN-1
TEST(ChannelListen, SocketFileHasMode0600ByDefault) {
  npipe::test::watchdog dog(10s);
  npipe::test::temp_dir dir;
  auto l = npipe::listener::listen(dir.file("s"));
  struct stat st = lstat_or_fail(dir.file("s"));
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

// NPIPE_REQ: CHAN-LISTEN-1
TEST(ChannelListen, RequestedModeIsAppliedExactlyWhateverTheUmask) {
  npipe::test::watchdog dog(10s);
  npipe::test::temp_dir dir;
  mode_t old = ::umask(077);  // would strip every group/other bit from a plain bind()
  npipe::listener_options o;
  o.mode = 0666;
  auto l = npipe::listener::listen(dir.file("s"), o);
  ::umask(old);
  EXPECT_EQ(lstat_or_fail(dir.file("s")).st_mode & 07777, 0666u);
}

// NPIPE_REQ: CHAN-LISTEN-1
TEST(ChannelListen, ModeWithBitsOutsidePermissionsIsRefusedAndCreatesNothing) {
  npipe::test::temp_dir dir;
  npipe::listener_options o;
  o.mode = 010600;
  std::string why;
  EXPECT_EQ(error_of([&] { npipe::listener::listen(dir.file("s"), o); }, &why), errc::unsupported);
  EXPECT_NE(why.find("010600"), std::string::npos) << why;
  EXPECT_FALSE(exists(dir.file("s")));
}

// NPIPE_REQ: CHAN-LISTEN-2
TEST(ChannelListen, LiveListenerInAnotherProcessIsNotDisturbed) {
  npipe::test::watchdog dog(20s);
  npipe::test::temp_dir dir;
  const std::string address = dir.file("live");
  auto child =
      npipe::test::process::spawn_self("chan_echo_listener", {address, "-", "sha256", "1"});
  ASSERT_EQ(expect_line(child), "ready");
  const ino_t before = lstat_or_fail(address).st_ino;

  std::string why;
  EXPECT_EQ(error_of([&] { npipe::listener::listen(address); }, &why), errc::already_exists);
  EXPECT_NE(why.find("live"), std::string::npos) << why;
  EXPECT_EQ(lstat_or_fail(address).st_ino, before);

  // The live listener's first accepted client is the real one: the check left nothing in its
  // backlog (a connect() probe would have been accepted first and seen as a client leaving).
  {
    auto c = npipe::connection::connect(address, {}, npipe::deadline::after(5s));
    c.send_bytes("first");
    EXPECT_EQ(npipe::chantest::text(c.recv_bytes(SIZE_MAX, npipe::deadline::after(5s))),
              "echo:first");
  }
  EXPECT_EQ(expect_line(child), "accepted");
  EXPECT_EQ(expect_line(child), "msg first");
  EXPECT_EQ(expect_line(child), "eof");
  EXPECT_EQ(expect_line(child), "done");
  EXPECT_EQ(child.wait(5s), 0);
}

// NPIPE_REQ: CHAN-LISTEN-3
// NPIPE_REQ: CHAN-LIFE-1
TEST(ChannelListen, StaleSocketFileOfAKilledListenerIsReplaced) {
  npipe::test::watchdog dog(20s);
  npipe::test::temp_dir dir;
  const std::string address = dir.file("stale");
  {
    auto child = npipe::test::process::spawn_self("chan_listen_and_hold", {address});
    ASSERT_EQ(expect_line(child), "ready");
    child.kill();
    EXPECT_TRUE(child.wait(5s));
  }
  // POSIX: the killed listener's socket file stays behind, and nobody answers on it.
  struct stat stale = lstat_or_fail(address);
  ASSERT_TRUE(S_ISSOCK(stale.st_mode));
  EXPECT_EQ(error_of([&] { npipe::connection::connect(address, {}, npipe::deadline::after(2s)); }),
            errc::not_found);

  // (The new file may well get the freed inode number again: only its behaviour tells.)
  auto l = npipe::listener::listen(address);
  EXPECT_TRUE(S_ISSOCK(lstat_or_fail(address).st_mode));
  auto client = npipe::test::process::spawn_self("chan_client", {address, "-", "sha256", "hi"});
  auto c = l.accept(npipe::deadline::after(10s));
  EXPECT_EQ(npipe::chantest::text(c.recv_bytes(SIZE_MAX, npipe::deadline::after(5s))), "hi");
  c.send_bytes("yo");
  EXPECT_EQ(expect_line(client), "connected");
  EXPECT_EQ(expect_line(client), "reply yo");
  EXPECT_EQ(client.wait(5s), 0);
}

// NPIPE_REQ: CHAN-LISTEN-4
TEST(ChannelListen, AnythingButASocketAtTheAddressIsLeftUntouched) {
  npipe::test::watchdog dog(10s);
  npipe::test::temp_dir dir;
  const std::string file = dir.file("file");
  std::ofstream(file) << "precious";
  ASSERT_EQ(::mkdir(dir.file("dir").c_str(), 0700), 0);
  ASSERT_EQ(::symlink(file.c_str(), dir.file("link").c_str()), 0);
  ASSERT_EQ(::symlink(dir.file("nowhere").c_str(), dir.file("dangling").c_str()), 0);
  ASSERT_EQ(::mkfifo(dir.file("fifo").c_str(), 0600), 0);

  for (const char* name : {"file", "dir", "link", "dangling", "fifo"}) {
    const std::string path = dir.file(name);
    struct stat before = lstat_or_fail(path);
    std::string why;
    EXPECT_EQ(error_of([&] { npipe::listener::listen(path); }, &why), errc::already_exists) << name;
    EXPECT_NE(why.find("not a socket"), std::string::npos) << why;
    struct stat after = lstat_or_fail(path);
    EXPECT_EQ(after.st_ino, before.st_ino) << name;
    EXPECT_EQ(after.st_mode, before.st_mode) << name;
  }
  EXPECT_EQ(read_file(file), "precious");
  EXPECT_FALSE(exists(dir.file("nowhere")));
}

// NPIPE_REQ: CHAN-LISTEN-5
TEST(ChannelListen, CloseRemovesItsOwnSocketFile) {
  npipe::test::temp_dir dir;
  auto l = npipe::listener::listen(dir.file("s"));
  ASSERT_TRUE(exists(dir.file("s")));
  l.close();
  EXPECT_FALSE(exists(dir.file("s")));
  l.close();  // idempotent
  { auto scoped = npipe::listener::listen(dir.file("t")); }
  EXPECT_FALSE(exists(dir.file("t")));  // the destructor closes too
}

// NPIPE_REQ: CHAN-LISTEN-5
TEST(ChannelListen, CloseLeavesAFileThatIsNoLongerItsOwn) {
  npipe::test::watchdog dog(10s);
  npipe::test::temp_dir dir;
  const std::string address = dir.file("s");
  auto first = npipe::listener::listen(address);
  ASSERT_EQ(::unlink(address.c_str()), 0);
  auto second = npipe::listener::listen(address);  // a new listener took the name
  first.close();
  ASSERT_TRUE(exists(address));
  // ... and it still serves.
  auto c = npipe::connection::connect(address, {}, npipe::deadline::after(5s));
  auto accepted = second.accept(npipe::deadline::after(5s));
  c.send_bytes("x");
  EXPECT_EQ(npipe::chantest::text(accepted.recv_bytes(SIZE_MAX, npipe::deadline::after(5s))), "x");

  second.close();
  ASSERT_FALSE(exists(address));
  auto third = npipe::listener::listen(address);
  ASSERT_EQ(::unlink(address.c_str()), 0);
  std::ofstream(address) << "someone else's";
  third.close();
  EXPECT_EQ(read_file(address), "someone else's");
}

// NPIPE_REQ: NAME-3
TEST(ChannelListen, UnrepresentableAddressIsInvalidNameAndCreatesNothing) {
  npipe::test::temp_dir dir;
  const std::string too_long = dir.file(std::string(120, 'n'));
  EXPECT_EQ(error_of([&] { npipe::listener::listen(too_long); }), errc::invalid_name);
  EXPECT_EQ(error_of([&] { npipe::listener::listen(""); }), errc::invalid_name);
  EXPECT_EQ(error_of([&] { npipe::listener::listen(std::string("a\0b", 3)); }), errc::invalid_name);
  EXPECT_EQ(error_of([&] { npipe::connection::connect(too_long); }), errc::invalid_name);
  EXPECT_FALSE(exists(too_long));
}

// NPIPE_REQ: ERR-1
TEST(ChannelListen, ListeningInAMissingDirectoryIsNotFound) {
  npipe::test::temp_dir dir;
  EXPECT_EQ(error_of([&] { npipe::listener::listen(dir.file("missing/s")); }), errc::not_found);
}

}  // namespace
