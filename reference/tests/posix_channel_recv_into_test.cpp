// Channel profile: receiving into the caller's buffer (connection::recv_bytes_into), and a deadline
// that passes inside a message. The peer is a raw AF_UNIX socket, so the bytes on the wire (and
// when they arrive) are exactly the test's.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "channel_test_util.hpp"
#include "npipe/channel.hpp"
#include "support.hpp"

namespace {

using namespace std::chrono_literals;
using npipe::errc;
using npipe::chantest::error_of;

std::string header(std::uint32_t n) {
  char h[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
               static_cast<char>(n)};
  return std::string(h, 4);
}

// A listener, one raw client socket, and the connection the listener accepted for it.
struct raw_pair {
  npipe::test::temp_dir dir;
  npipe::listener l = npipe::listener::listen(dir.file("s"));
  int fd = connect_raw(dir.file("s"));
  npipe::connection server = l.accept(npipe::deadline::after(5s));

  ~raw_pair() { ::close(fd); }

  static int connect_raw(const std::string& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << path;
    return fd;
  }
  void send_raw(const std::string& bytes) {
    ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
};

// NPIPE_REQ: CHAN-FRAME-3 CHAN-EOF-1
TEST(ChannelRecvInto, MessagesLandInTheCallersBufferWithTheirLengths) {
  npipe::test::watchdog dog(20s);
  raw_pair p;
  p.send_raw(header(5) + "hello" + header(0) + header(3) + "abc");
  ::shutdown(p.fd, SHUT_WR);
  std::vector<char> buf(16, '#');
  EXPECT_EQ(p.server.recv_bytes_into(buf.data(), buf.size(), npipe::deadline::after(5s)), 5u);
  EXPECT_EQ(std::string(buf.data(), 5), "hello");
  EXPECT_EQ(p.server.recv_bytes_into(buf.data(), buf.size(), npipe::deadline::after(5s)), 0u);
  EXPECT_EQ(p.server.recv_bytes_into(buf.data(), buf.size(), npipe::deadline::after(5s)), 3u);
  EXPECT_EQ(std::string(buf.data(), 3), "abc");
  EXPECT_EQ(p.server.recv_bytes_into(buf.data(), buf.size(), npipe::deadline::after(5s)),
            std::nullopt);
}

// NPIPE_REQ: CHAN-RECV-1 CHAN-RECV-2
TEST(ChannelRecvInto, AMessageLongerThanTheBufferIsRefusedAndTheConnectionBecomesWriteOnly) {
  npipe::test::watchdog dog(20s);
  raw_pair p;
  p.send_raw(header(9) + "too long!");
  char buf[8];
  EXPECT_EQ(
      error_of([&] { p.server.recv_bytes_into(buf, sizeof buf, npipe::deadline::after(5s)); }),
      errc::message_too_long);
  EXPECT_FALSE(p.server.readable());
  EXPECT_TRUE(p.server.writable());
  p.server.send_bytes("still writable");
  char got[4 + 14];
  ASSERT_EQ(::recv(p.fd, got, sizeof got, MSG_WAITALL), static_cast<ssize_t>(sizeof got));
  EXPECT_EQ(std::string(got + 4, 14), "still writable");
}

// NPIPE_REQ: CHAN-RECV-4
TEST(ChannelRecvInto, ADeadlineInsideAMessageLosesNothingEvenIntoAnotherBuffer) {
  npipe::test::watchdog dog(20s);
  raw_pair p;
  p.send_raw(header(10) + "first");
  char first_buf[16];
  EXPECT_EQ(error_of([&] {
              p.server.recv_bytes_into(first_buf, sizeof first_buf, npipe::deadline::after(50ms));
            }),
            errc::timeout);
  p.send_raw("-half");
  std::vector<char> other(10);
  EXPECT_EQ(p.server.recv_bytes_into(other.data(), other.size(), npipe::deadline::after(5s)), 10u);
  EXPECT_EQ(std::string(other.data(), 10), "first-half");
}

// NPIPE_REQ: CHAN-RECV-4
TEST(ChannelRecvInto, ADeadlineInsideAMessageLosesNothingForRecvBytes) {
  npipe::test::watchdog dog(20s);
  raw_pair p;
  p.send_raw(header(10) + "first");
  EXPECT_EQ(error_of([&] { p.server.recv_bytes(SIZE_MAX, npipe::deadline::after(50ms)); }),
            errc::timeout);
  p.send_raw("-half");
  auto m = p.server.recv_bytes(SIZE_MAX, npipe::deadline::after(5s));
  ASSERT_TRUE(m);
  EXPECT_EQ(std::string(m->begin(), m->end()), "first-half");
}

}  // namespace
