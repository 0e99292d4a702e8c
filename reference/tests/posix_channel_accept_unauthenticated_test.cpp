// listener::accept_unauthenticated + connection::authenticate (CHAN-AUTH-13): a server that runs
// each client's handshake on its own thread is not held up by a client that never speaks.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "channel_test_util.hpp"
#include "npipe/channel.hpp"
#include "npipe/error.hpp"
#include "support.hpp"

namespace {

using namespace std::chrono_literals;
using npipe::deadline;
using npipe::errc;
using npipe::chantest::error_of;
using npipe::chantest::text;

std::string line_of(npipe::test::process& p) {
  std::string line;
  EXPECT_TRUE(p.read_line(line, 20s)) << "the child said nothing";
  return line;
}

npipe::listener_options keyed() {
  npipe::listener_options o;
  o.authkey = "sesame";
  o.handshake_timeout =
      20s;  // longer than this test may take: only the silent client's leaving ends it
  return o;
}

// NPIPE_REQ: CHAN-AUTH-13
TEST(ChannelAcceptUnauthenticated, ASilentClientDelaysOnlyItself) {
  npipe::test::watchdog dog(60s);
  npipe::test::temp_dir dir;
  const std::string addr = dir.file("s");
  npipe::listener l = npipe::listener::listen(addr, keyed());

  auto silent = npipe::test::process::spawn_self("chan_connect_and_wait", {addr});
  ASSERT_EQ(line_of(silent), "connected");
  npipe::connection s = l.accept_unauthenticated(deadline::after(20s));
  std::atomic<bool> silent_done{false};
  errc silent_result = errc::io_error;
  std::thread handshake([&] {
    silent_result = error_of([&] { s.authenticate(deadline::after(30s)); });
    silent_done = true;
  });

  auto honest = npipe::test::process::spawn_self("chan_client", {addr, "sesame", "sha256", "hi"});
  npipe::connection h = l.accept_unauthenticated(deadline::after(20s));
  h.authenticate(deadline::after(20s));
  EXPECT_EQ(text(h.recv_bytes(SIZE_MAX, deadline::after(20s))), "hi");
  h.send_bytes("served");
  EXPECT_EQ(line_of(honest), "connected");
  EXPECT_EQ(line_of(honest), "reply served");
  // Served while the silent client's handshake was still pending: only its leaving ends that.
  EXPECT_FALSE(silent_done.load());

  silent.close_stdin();  // it leaves: the pending handshake finds the connection closed
  handshake.join();
  EXPECT_EQ(silent_result, errc::auth_failed);
  EXPECT_FALSE(s.is_open()) << "a failed authenticate() must close the connection";
}

// NPIPE_REQ: CHAN-AUTH-13
TEST(ChannelAcceptUnauthenticated, NothingIsSentOrReceivedBeforeAuthenticate) {
  npipe::test::watchdog dog(60s);
  npipe::test::temp_dir dir;
  const std::string addr = dir.file("s");
  npipe::listener l = npipe::listener::listen(addr, keyed());
  auto client = npipe::test::process::spawn_self("chan_client", {addr, "sesame", "sha256", "hi"});
  npipe::connection c = l.accept_unauthenticated(deadline::after(20s));
  std::string why;
  EXPECT_EQ(error_of([&] { c.send_bytes("too early"); }, &why), errc::io_error);
  EXPECT_NE(why.find("authenticate()"), std::string::npos) << why;
  EXPECT_EQ(error_of([&] { c.recv_bytes(SIZE_MAX, deadline::immediate()); }), errc::io_error);
  EXPECT_EQ(error_of([&] { c.poll(); }), errc::io_error);
  c.authenticate(deadline::after(20s));
  c.authenticate();  // once done, nothing more is owed
  EXPECT_EQ(text(c.recv_bytes(SIZE_MAX, deadline::after(20s))), "hi");
  c.send_bytes("after");
  EXPECT_EQ(line_of(client), "connected");
  EXPECT_EQ(line_of(client), "reply after");
}

// NPIPE_REQ: CHAN-AUTH-13
// NPIPE_REQ: CHAN-AUTH-5
TEST(ChannelAcceptUnauthenticated, AWrongKeyFailsAuthenticateAndClosesTheConnection) {
  npipe::test::watchdog dog(60s);
  npipe::test::temp_dir dir;
  const std::string addr = dir.file("s");
  npipe::listener l = npipe::listener::listen(addr, keyed());
  auto client = npipe::test::process::spawn_self("chan_client", {addr, "wrong", "sha256", "hi"});
  npipe::connection c = l.accept_unauthenticated(deadline::after(20s));
  EXPECT_EQ(error_of([&] { c.authenticate(deadline::after(20s)); }), errc::auth_failed);
  EXPECT_FALSE(c.is_open());
  EXPECT_EQ(line_of(client), "error auth_failed");
}

// NPIPE_REQ: CHAN-AUTH-13
TEST(ChannelAcceptUnauthenticated, WithoutAKeyItIsAccept) {
  npipe::test::watchdog dog(60s);
  npipe::test::temp_dir dir;
  const std::string addr = dir.file("s");
  npipe::listener l = npipe::listener::listen(addr);
  auto client = npipe::test::process::spawn_self("chan_client", {addr, "-", "sha256", "hi"});
  npipe::connection c = l.accept_unauthenticated(deadline::after(20s));
  EXPECT_EQ(text(c.recv_bytes(SIZE_MAX, deadline::after(20s))), "hi");  // no authenticate() owed
  c.authenticate();                                                     // and it does nothing
  c.send_bytes("plain");
  EXPECT_EQ(line_of(client), "connected");
  EXPECT_EQ(line_of(client), "reply plain");
}

}  // namespace
