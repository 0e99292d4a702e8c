// Channel profile: message boundaries, maxlength, EOF and a peer that is gone.
#include <gtest/gtest.h>

#include <chrono>
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

// Both ends of one channel inside this process (connect completes into the backlog).
struct local_pair {
  npipe::test::temp_dir dir;
  npipe::listener l = npipe::listener::listen(dir.pipe_name("s"));
  npipe::connection client =
      npipe::connection::connect(dir.pipe_name("s"), {}, npipe::deadline::after(5s));
  npipe::connection server = l.accept(npipe::deadline::after(5s));
};

std::optional<npipe::bytes> recv5(npipe::connection& c, std::size_t max = SIZE_MAX) {
  return c.recv_bytes(max, npipe::deadline::after(5s));
}

// NPIPE_REQ: CHAN-FRAME-3
TEST(ChannelMessage, BoundariesAreKeptBetweenProcessesIncludingEmptyMessages) {
  npipe::test::watchdog dog(20s);
  npipe::test::temp_dir dir;
  const std::string address = dir.pipe_name("s");
  auto child =
      npipe::test::process::spawn_self("chan_echo_listener", {address, "-", "sha256", "1"});
  ASSERT_EQ(expect_line(child), "ready");
  {
    auto c = npipe::connection::connect(address, {}, npipe::deadline::after(5s));
    for (const char* m : {"a", "", "bc", ""})
      c.send_bytes(m);
    EXPECT_EQ(text(recv5(c)), "echo:a");
    EXPECT_EQ(text(recv5(c)), "echo:");
    EXPECT_EQ(text(recv5(c)), "echo:bc");
    EXPECT_EQ(text(recv5(c)), "echo:");
  }
  EXPECT_EQ(expect_line(child), "accepted");
  EXPECT_EQ(expect_line(child), "msg a");
  EXPECT_EQ(expect_line(child), "msg ");
  EXPECT_EQ(expect_line(child), "msg bc");
  EXPECT_EQ(expect_line(child), "msg ");
  EXPECT_EQ(expect_line(child), "eof");
}

// NPIPE_REQ: CHAN-FRAME-1
// NPIPE_REQ: CHAN-FRAME-3
TEST(ChannelMessage, LargeMessagesArriveWholeAndUnchanged) {
  npipe::test::watchdog dog(30s);
  npipe::test::temp_dir dir;
  const std::string address = dir.pipe_name("s");
  auto l = npipe::listener::listen(address);
  auto child = npipe::test::process::spawn_self("chan_echo_client", {address});
  auto c = l.accept(npipe::deadline::after(10s));
  for (std::size_t size : {std::size_t{1} << 16, std::size_t{3} << 20, std::size_t{8} << 20}) {
    npipe::bytes payload(size);
    for (std::size_t i = 0; i < size; ++i)
      payload[i] = static_cast<std::uint8_t>((i * 7 + size) % 251);
    c.send_bytes(payload.data(), payload.size());
    auto back = c.recv_bytes(SIZE_MAX, npipe::deadline::after(20s));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->size(), size);
    EXPECT_TRUE(*back == payload) << "payload of " << size << " bytes changed on the way";
  }
  c.close();
  EXPECT_EQ(expect_line(child), "eof");
  EXPECT_EQ(child.wait(5s), 0);
}

// NPIPE_REQ: CHAN-RECV-1
// NPIPE_REQ: CHAN-RECV-2
TEST(ChannelMessage, TooLongMessageIsRefusedAndTheConnectionBecomesWriteOnly) {
  npipe::test::watchdog dog(10s);
  local_pair p;
  p.client.send_bytes(std::string(1000, 'x'));
  EXPECT_EQ(recv5(p.server, 1000)->size(), 1000u);  // maxlength itself is allowed

  p.client.send_bytes(std::string(1001, 'y'));
  std::string why;
  EXPECT_EQ(error_of([&] { recv5(p.server, 1000); }, &why), errc::message_too_long);
  EXPECT_NE(why.find("1001"), std::string::npos) << why;
  EXPECT_FALSE(p.server.readable());
  EXPECT_TRUE(p.server.writable());
  EXPECT_TRUE(p.server.is_open());
  EXPECT_NE(error_of([&] { recv5(p.server); }), errc::message_too_long);  // no more reading at all
  // Sending still works, and the peer gets it.
  p.server.send_bytes("still here");
  EXPECT_EQ(text(recv5(p.client)), "still here");
}

// NPIPE_REQ: CHAN-EOF-1
TEST(ChannelMessage, EofOnABoundaryComesAfterEveryMessage) {
  npipe::test::watchdog dog(10s);
  local_pair p;
  p.client.send_bytes("one");
  p.client.send_bytes("two");
  p.client.close();
  EXPECT_EQ(text(recv5(p.server)), "one");
  EXPECT_EQ(text(recv5(p.server)), "two");
  EXPECT_EQ(recv5(p.server), std::nullopt);
  EXPECT_EQ(recv5(p.server), std::nullopt);                  // and stays EOF
  EXPECT_TRUE(p.server.poll(npipe::deadline::immediate()));  // EOF counts as ready
}

// NPIPE_REQ: CHAN-EOF-3
TEST(ChannelMessage, SendingToAPeerThatHasGoneIsBrokenPipeNotASignal) {
  npipe::test::watchdog dog(10s);
  local_pair p;
  p.client.close();
  std::string why;
  // The default SIGPIPE disposition is in force here: a signal would kill the test binary.
  EXPECT_EQ(error_of([&] { p.server.send_bytes("anyone?"); }, &why), errc::broken_pipe);
#ifdef _WIN32
  EXPECT_NE(why.find("ERROR_NO_DATA"), std::string::npos) << why;  // the native name is kept
#else
  EXPECT_NE(why.find("EPIPE"), std::string::npos) << why;
#endif
}

// NPIPE_REQ: CHAN-LIFE-2
TEST(ChannelMessage, KilledPeerGivesEofAfterItsMessagesThenBrokenPipe) {
  npipe::test::watchdog dog(20s);
  npipe::test::temp_dir dir;
  const std::string address = dir.pipe_name("s");
  auto l = npipe::listener::listen(address);
  auto child = npipe::test::process::spawn_self("chan_send_and_hang", {address});
  auto c = l.accept(npipe::deadline::after(10s));
  ASSERT_EQ(expect_line(child), "sent");
  child.kill();
  ASSERT_TRUE(child.wait(5s));
  EXPECT_EQ(text(recv5(c)), "before death");
  EXPECT_EQ(recv5(c), std::nullopt);
  EXPECT_EQ(error_of([&] { c.send_bytes("hello?"); }), errc::broken_pipe);
}

// NPIPE_REQ: CHAN-FRAME-3
TEST(ChannelMessage, PollAndDeadlinesOnReceive) {
  npipe::test::watchdog dog(10s);
  local_pair p;
  EXPECT_FALSE(p.server.poll(npipe::deadline::immediate()));
  EXPECT_FALSE(p.server.poll(npipe::deadline::after(50ms)));
  EXPECT_EQ(error_of([&] { p.server.recv_bytes(SIZE_MAX, npipe::deadline::immediate()); }),
            errc::would_block);
  EXPECT_EQ(error_of([&] { p.server.recv_bytes(SIZE_MAX, npipe::deadline::after(100ms)); }),
            errc::timeout);
  p.client.send_bytes("late");
  EXPECT_TRUE(p.server.poll(npipe::deadline::after(5s)));
  EXPECT_EQ(text(recv5(p.server)), "late");
}

// NPIPE_REQ: ERR-1
TEST(ChannelMessage, ClosedConnectionRefusesEveryOperationClearly) {
  local_pair p;
  p.server.close();
  EXPECT_FALSE(p.server.is_open());
  EXPECT_FALSE(p.server.readable());
  EXPECT_FALSE(p.server.writable());
  std::string why;
  EXPECT_EQ(error_of([&] { p.server.send_bytes("x"); }, &why), errc::io_error);
  EXPECT_NE(why.find("closed"), std::string::npos) << why;
  EXPECT_EQ(error_of([&] { recv5(p.server); }), errc::io_error);
  EXPECT_EQ(error_of([&] { p.server.poll(); }), errc::io_error);
  npipe::connection empty;
  EXPECT_FALSE(empty.is_open());
  EXPECT_EQ(empty.native_handle(), npipe::invalid_native_handle);
  EXPECT_EQ(error_of([&] { empty.send_bytes("x"); }), errc::io_error);
}

}  // namespace
