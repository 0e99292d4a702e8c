// Channel profile: connecting, accepting, and many clients on one listener.
#include <gtest/gtest.h>
#ifndef _WIN32
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#endif

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "channel_test_util.hpp"
#include "npipe/channel.hpp"
#include "npipe/error.hpp"
#include "support.hpp"

namespace {

using namespace std::chrono_literals;
using npipe::errc;
using npipe::chantest::error_of;
using npipe::chantest::text;

std::string expect_line(npipe::test::process& p, std::chrono::milliseconds limit = 10s) {
  std::string line;
  EXPECT_TRUE(p.read_line(line, limit)) << "the child said nothing";
  return line;
}

// NPIPE_REQ: CHAN-CONNECT-1
TEST(ChannelConnect, NoSocketFileIsNotFound) {
  npipe::test::watchdog dog(10s);
  npipe::test::temp_dir dir;
  std::string why;
  EXPECT_EQ(error_of([&] { npipe::connection::connect(dir.pipe_name("nobody")); }, &why),
            errc::not_found);
  EXPECT_NE(why.find("nobody"), std::string::npos) << why;  // the message names the address
}

#ifndef _WIN32  // a socket file is POSIX's; Windows has no stale name (CHAN-LIFE-1)
// NPIPE_REQ: CHAN-CONNECT-1
TEST(ChannelConnect, SocketFileNobodyListensOnIsNotFound) {
  npipe::test::watchdog dog(10s);
  npipe::test::temp_dir dir;
  // A socket bound but never listening: exactly what a dead listener leaves.
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  const std::string path = dir.pipe_name("bound");
  path.copy(a.sun_path, sizeof a.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(error_of([&] { npipe::connection::connect(path, {}, npipe::deadline::after(2s)); }),
            errc::not_found);
  ::close(fd);
}
#endif

// NPIPE_REQ: CHAN-CONNECT-2
TEST(ChannelConnect, ClientThatLeftBeforeAcceptDoesNotStopTheNextOne) {
  npipe::test::watchdog dog(20s);
  npipe::test::temp_dir dir;
  const std::string address = dir.pipe_name("s");
  auto l = npipe::listener::listen(address);
  auto leaver = npipe::test::process::spawn_self("chan_connect_and_leave", {address});
  EXPECT_EQ(expect_line(leaver), "left");
  EXPECT_EQ(leaver.wait(5s), 0);

  // Without a key, accept returns the departed client's connection, which is at EOF ...
  auto gone = l.accept(npipe::deadline::after(5s));
  EXPECT_EQ(gone.recv_bytes(SIZE_MAX, npipe::deadline::after(5s)), std::nullopt);
  // ... and the next accept serves the next client.
  auto client = npipe::test::process::spawn_self("chan_client", {address, "-", "sha256", "next"});
  auto c = l.accept(npipe::deadline::after(10s));
  EXPECT_EQ(text(c.recv_bytes(SIZE_MAX, npipe::deadline::after(5s))), "next");
  c.send_bytes("ok");
  EXPECT_EQ(expect_line(client), "connected");
  EXPECT_EQ(expect_line(client), "reply ok");
}

// NPIPE_REQ: CHAN-CONNECT-2
// NPIPE_REQ: CHAN-AUTH-5
TEST(ChannelConnect, WithAKeyADepartedClientFailsOnlyItsOwnAccept) {
  npipe::test::watchdog dog(20s);
  npipe::test::temp_dir dir;
  const std::string address = dir.pipe_name("s");
  auto l = npipe::listener::listen(address, npipe::chantest::listener_from_arg("key"));
  auto leaver = npipe::test::process::spawn_self("chan_connect_and_leave", {address});
  EXPECT_EQ(expect_line(leaver), "left");
  EXPECT_EQ(leaver.wait(5s), 0);

  std::string why;
  EXPECT_EQ(error_of([&] { l.accept(npipe::deadline::after(5s)); }, &why), errc::auth_failed);
  EXPECT_NE(why.find("peer"), std::string::npos) << why;  // says the peer is the problem

  auto client = npipe::test::process::spawn_self("chan_client", {address, "key", "sha256", "next"});
  auto c = l.accept(npipe::deadline::after(10s));
  EXPECT_EQ(text(c.recv_bytes(SIZE_MAX, npipe::deadline::after(5s))), "next");
  c.send_bytes("ok");
  EXPECT_EQ(expect_line(client), "connected");
  EXPECT_EQ(expect_line(client), "reply ok");
}

// NPIPE_REQ: CHAN-ACCEPT-1
TEST(ChannelAccept, DeadlineGivesTimeoutAndImmediateGivesWouldBlock) {
  npipe::test::watchdog dog(10s);
  npipe::test::temp_dir dir;
  auto l = npipe::listener::listen(dir.pipe_name("s"));
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(error_of([&] { l.accept(npipe::deadline::after(200ms)); }), errc::timeout);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 5s);
  EXPECT_EQ(error_of([&] { l.accept(npipe::deadline::immediate()); }), errc::would_block);
  // Still usable afterwards.
  auto c = npipe::connection::connect(dir.pipe_name("s"), {}, npipe::deadline::after(5s));
  EXPECT_TRUE(l.accept(npipe::deadline::immediate()).is_open());
}

// NPIPE_REQ: CHAN-ACCEPT-1
TEST(ChannelAccept, AcceptBlocksUntilAClientComes) {
  npipe::test::watchdog dog(20s);
  npipe::test::temp_dir dir;
  const std::string address = dir.pipe_name("s");
  auto server = npipe::test::process::spawn_self("chan_accept_forever", {address});
  ASSERT_EQ(expect_line(server), "ready");
  ASSERT_TRUE(npipe::test::wait_until_blocked(server.pid(), 10s));
  std::string line;
  EXPECT_FALSE(server.read_line(line, 0ms)) << "accept returned without a client: " << line;

  auto c = npipe::connection::connect(address, {}, npipe::deadline::after(5s));
  c.send_bytes("here");
  EXPECT_EQ(expect_line(server), "accepted");
  EXPECT_EQ(expect_line(server), "msg here");
  EXPECT_EQ(server.wait(5s), 0);
}

// NPIPE_REQ: CHAN-ACCEPT-2
TEST(ChannelAccept, OneListenerServesManyClientsEachOnItsOwnConnection) {
  npipe::test::watchdog dog(30s);
  npipe::test::temp_dir dir;
  const std::string address = dir.pipe_name("s");
  auto l = npipe::listener::listen(address, npipe::chantest::listener_from_arg("k"));
  std::vector<npipe::test::process> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(npipe::test::process::spawn_self(
        "chan_client", {address, "k", i % 2 ? "md5" : "sha256", "client" + std::to_string(i)}));
  }
  std::set<std::string> seen;
  for (int i = 0; i < 4; ++i) {
    auto c = l.accept(npipe::deadline::after(10s));
    std::string m = text(c.recv_bytes(SIZE_MAX, npipe::deadline::after(10s)));
    seen.insert(m);
    c.send_bytes("to " + m);  // each reply goes back on the connection it came from
  }
  EXPECT_EQ(seen, (std::set<std::string>{"client0", "client1", "client2", "client3"}));
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(expect_line(clients[i]), "connected");
    EXPECT_EQ(expect_line(clients[i]), "reply to client" + std::to_string(i));
    EXPECT_EQ(clients[i].wait(5s), 0);
  }
}

}  // namespace
