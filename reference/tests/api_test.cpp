// The API's forms, on every platform: errors without exceptions (the std::error_code& overloads,
// npipe::category()'s std::errc equivalences, an exception type that copies without throwing), a
// deadline on every blocking call (sends and write_all included, with the count written),
// adopting and releasing native handles, and the peer's identity.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <vector>

#ifdef _WIN32
#include <windows.h>
#else
#include <unistd.h>
#endif

#include "npipe/npipe.hpp"
#include "support.hpp"

namespace {

using namespace std::chrono_literals;
using npipe::deadline;
using npipe::errc;

long long this_process_id() {
#ifdef _WIN32
  return static_cast<long long>(::GetCurrentProcessId());
#else
  return static_cast<long long>(::getpid());
#endif
}

// A connected pair in this process: a listener's accepted end and the client.
struct channel_pair {
  npipe::listener l;
  npipe::connection server;
  npipe::connection client;
};

channel_pair make_pair(const std::string& name) {
  channel_pair p;
  p.l = npipe::listener::listen(name);
  p.client = npipe::connection::connect(name, {}, deadline::after(10s));
  p.server = p.l.accept(deadline::after(10s));
  return p;
}

}  // namespace

// NPIPE_REQ: ERR-1
TEST(ErrorCode, PortableCodesAreEquivalentToStdErrc) {
  using npipe::make_error_code;
  EXPECT_TRUE(make_error_code(errc::broken_pipe) == std::errc::broken_pipe);
  EXPECT_TRUE(make_error_code(errc::not_found) == std::errc::no_such_file_or_directory);
  EXPECT_TRUE(make_error_code(errc::already_exists) == std::errc::file_exists);
  EXPECT_TRUE(make_error_code(errc::timeout) == std::errc::timed_out);
  EXPECT_TRUE(make_error_code(errc::would_block) == std::errc::operation_would_block);
  EXPECT_TRUE(make_error_code(errc::would_block) == std::errc::resource_unavailable_try_again);
  EXPECT_TRUE(make_error_code(errc::permission_denied) == std::errc::permission_denied);
  EXPECT_TRUE(make_error_code(errc::invalid_name) == std::errc::invalid_argument);
  EXPECT_TRUE(make_error_code(errc::message_too_long) == std::errc::message_size);
  EXPECT_TRUE(make_error_code(errc::unsupported) == std::errc::not_supported);
  EXPECT_TRUE(make_error_code(errc::protocol_error) == std::errc::protocol_error);
  EXPECT_TRUE(make_error_code(errc::io_error) == std::errc::io_error);
  // Not equivalent to anything else, and no counterpart for the two npipe-only errors.
  EXPECT_FALSE(make_error_code(errc::broken_pipe) == std::errc::timed_out);
  EXPECT_FALSE(make_error_code(errc::not_a_pipe) == std::errc::invalid_argument);
  EXPECT_FALSE(make_error_code(errc::auth_failed) == std::errc::permission_denied);
  EXPECT_EQ(make_error_code(errc::timeout).default_error_condition(),
            std::make_error_condition(std::errc::timed_out));
  EXPECT_STREQ(make_error_code(errc::timeout).category().name(), "npipe");
  EXPECT_EQ(make_error_code(errc::timeout).message(), "timeout");
}

// NPIPE_REQ: ERR-1 ERR-2
TEST(ErrorCode, TheExceptionCopiesWithoutThrowing) {
  static_assert(std::is_nothrow_copy_constructible<npipe::error>::value, "");
  static_assert(std::is_nothrow_copy_assignable<npipe::error>::value, "");
  npipe::error e(errc::not_found, "open FIFO 'x'", 2, "ENOENT");
  npipe::error copy = e;
  EXPECT_STREQ(copy.what(), "not_found: open FIFO 'x'");
  EXPECT_EQ(copy.native(), 2);
  EXPECT_EQ(copy.native_name(), "ENOENT");
  EXPECT_EQ(copy.message(), "open FIFO 'x'");
  EXPECT_TRUE(copy.code() == std::errc::no_such_file_or_directory);
}

// NPIPE_REQ: ERR-1 FIFO-OPEN-6 CHAN-CONNECT-1 NAME-3
TEST(ErrorCode, FailuresAreReportedWithoutThrowing) {
  npipe::test::watchdog dog(20s);
  npipe::test::temp_dir dir;
  std::error_code ec;
  npipe::fifo_end end = npipe::open_fifo(dir.pipe_name("missing"), npipe::direction::write,
                                         deadline::immediate(), ec);
  EXPECT_EQ(ec, errc::not_found);
  EXPECT_FALSE(end.is_open());
  npipe::connection c =
      npipe::connection::connect(dir.pipe_name("nobody"), {}, deadline::after(2s), ec);
  EXPECT_EQ(ec, errc::not_found);
  EXPECT_FALSE(c.is_open());
  EXPECT_EQ(npipe::platform_name("", npipe::name_kind::fifo, ec), "");
  EXPECT_EQ(ec, errc::invalid_name);
  // A closed object: io_error, no exception.
  char buf[4];
  EXPECT_EQ(end.read(buf, sizeof buf, deadline::immediate(), ec), 0u);
  EXPECT_EQ(ec, errc::io_error);
  // Success clears ec.
  ec = npipe::make_error_code(errc::io_error);
  auto l = npipe::listener::listen(dir.pipe_name("ok"), {}, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(l.native_handle() != npipe::invalid_native_handle);
}

// NPIPE_REQ: CHAN-ACCEPT-1 CHAN-RECV-3
TEST(ErrorCode, WouldBlockAndTimeoutComeBackAsCodes) {
  npipe::test::watchdog dog(20s);
  npipe::test::temp_dir dir;
  channel_pair p = make_pair(dir.pipe_name("s"));
  std::error_code ec;
  EXPECT_FALSE(p.l.accept(deadline::immediate(), ec).is_open());
  EXPECT_EQ(ec, errc::would_block);
  EXPECT_TRUE(ec == std::errc::operation_would_block);
  EXPECT_FALSE(p.l.accept(deadline::after(50ms), ec).is_open());
  EXPECT_EQ(ec, errc::timeout);
  EXPECT_FALSE(p.server.recv_bytes(SIZE_MAX, deadline::immediate(), ec).has_value());
  EXPECT_EQ(ec, errc::would_block);
  EXPECT_FALSE(p.server.poll(deadline::immediate(), ec));
  EXPECT_FALSE(ec);
  p.client.send_bytes("hello", 5, deadline::after(10s), ec);
  EXPECT_FALSE(ec);
  EXPECT_TRUE(p.server.poll(deadline::after(10s), ec));
  auto m = p.server.recv_bytes(SIZE_MAX, deadline::after(10s), ec);
  EXPECT_FALSE(ec);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(std::string(m->begin(), m->end()), "hello");
  char buf[16];
  EXPECT_FALSE(p.client.recv_bytes_into(buf, sizeof buf, deadline::after(20ms), ec).has_value());
  EXPECT_EQ(ec, errc::timeout);
  // EOF: no value, and no error.
  p.client.close();
  EXPECT_FALSE(p.server.recv_bytes(SIZE_MAX, deadline::after(10s), ec).has_value());
  EXPECT_FALSE(ec);
}

// NPIPE_REQ: CHAN-RECV-3
// A send to a peer that does not read stops at its deadline instead of hanging; a message cut in
// the middle leaves the connection unable to send (writable() false), never a corrupt stream.
TEST(Deadlines, SendGivesUpAtItsDeadline) {
  npipe::test::watchdog dog(60s);
  npipe::test::temp_dir dir;
  channel_pair p = make_pair(dir.pipe_name("s"));
  const std::string big(1 << 20, 'x');
  std::error_code ec;
  bool cut = false;
  for (int i = 0; i < 64 && !ec; ++i) {
    p.client.send_bytes(big.data(), big.size(), deadline::after(100ms), ec);
  }
  ASSERT_EQ(ec, errc::timeout) << "the peer never reads: some send must time out";
  cut = !p.client.writable();
  // Either way the connection says what it can still do, and a throwing send agrees.
  if (cut) {
    EXPECT_THROW(p.client.send_bytes("more", 4, deadline::immediate()), npipe::error);
  } else {
    try {
      p.client.send_bytes(big.data(), big.size(), deadline::immediate());
      ADD_FAILURE() << "an immediate send into a full pipe did not fail";
    } catch (const npipe::error& e) {
      EXPECT_EQ(e.value(), errc::would_block) << e.what();
    }
  }
}

// NPIPE_REQ: FIFO-IO-4 FIFO-IO-6
// write_all with a deadline returns the count written when the reader stops reading.
TEST(Deadlines, WriteAllReturnsTheCountWrittenBeforeItsDeadline) {
  npipe::test::watchdog dog(60s);
  npipe::test::temp_dir dir;
  const std::string name = dir.pipe_name("f");
  auto owner = npipe::fifo_owner::create(name, npipe::direction::read);
  npipe::fifo_end writer;
  std::thread peer(
      [&] { writer = npipe::open_fifo(name, npipe::direction::write, deadline::after(10s)); });
  npipe::fifo_end reader = owner.open(deadline::after(10s));
  peer.join();
  ASSERT_TRUE(writer.is_open());
  const std::vector<char> data(8 << 20, 'y');
  std::error_code ec;
  const std::size_t n = writer.write_all(data.data(), data.size(), deadline::after(200ms), ec);
  EXPECT_EQ(ec, errc::timeout);
  EXPECT_GT(n, 0u);
  EXPECT_LT(n, data.size());
  // What was written is exactly what the reader gets.
  std::size_t got = 0;
  std::vector<char> buf(1 << 16);
  while (got < n) {
    const std::size_t k = reader.read(buf.data(), buf.size(), deadline::after(10s));
    ASSERT_GT(k, 0u);
    got += k;
  }
  EXPECT_EQ(got, n);
  EXPECT_EQ(reader.read(buf.data(), buf.size(), deadline::immediate(), ec), 0u);
  EXPECT_EQ(ec, errc::would_block);
}

// NPIPE_REQ: CHAN-FRAME-1 CHAN-FRAME-5
TEST(NativeHandles, ConnectionReleaseThenFromNative) {
  npipe::test::watchdog dog(20s);
  npipe::test::temp_dir dir;
  channel_pair p = make_pair(dir.pipe_name("s"));
  npipe::native_handle_t h = p.client.release();
  EXPECT_FALSE(p.client.is_open());
  npipe::connection again = npipe::connection::from_native(h);
  again.send_bytes("adopted");
  auto m = p.server.recv_bytes(SIZE_MAX, deadline::after(10s));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(std::string(m->begin(), m->end()), "adopted");
  // A FIFO end is not a channel.
  std::error_code ec;
  const std::string f = dir.pipe_name("f");
  auto owner = npipe::fifo_owner::create(f, npipe::direction::read);
  npipe::fifo_end w;
  std::thread t([&] { w = npipe::open_fifo(f, npipe::direction::write, deadline::after(10s)); });
  npipe::fifo_end r = owner.open(deadline::after(10s));
  t.join();
  npipe::connection wrong = npipe::connection::from_native(r.release(), ec);
  EXPECT_EQ(ec, errc::not_a_pipe);
  EXPECT_FALSE(wrong.is_open());
}

// NPIPE_REQ: FIFO-IO-1
TEST(NativeHandles, FifoEndReleaseThenFromNative) {
  npipe::test::watchdog dog(20s);
  npipe::test::temp_dir dir;
  const std::string f = dir.pipe_name("f");
  auto owner = npipe::fifo_owner::create(f, npipe::direction::read);
  npipe::fifo_end w;
  std::thread t([&] { w = npipe::open_fifo(f, npipe::direction::write, deadline::after(10s)); });
  npipe::fifo_end r = owner.open(deadline::after(10s));
  t.join();
  npipe::fifo_end w2 = npipe::fifo_end::from_native(w.release(), npipe::direction::write);
  EXPECT_FALSE(w.is_open());
  w2.write_all("abc", 3);
  char buf[3];
  std::size_t got = 0;
  while (got < 3)
    got += r.read(buf + got, 3 - got, deadline::after(10s));
  EXPECT_EQ(std::string(buf, 3), "abc");
}

// NPIPE_REQ: CHAN-ACCEPT-2
TEST(PeerIdentity, BothEndsSeeThisProcess) {
  npipe::test::watchdog dog(20s);
  npipe::test::temp_dir dir;
  channel_pair p = make_pair(dir.pipe_name("s"));
  p.client.send_bytes("hi");  // some systems identify a pipe client only once it has written
  (void)p.server.recv_bytes(SIZE_MAX, deadline::after(10s));
  const npipe::peer_credentials a = p.server.peer();
  const npipe::peer_credentials b = p.client.peer();
  EXPECT_EQ(a.pid, this_process_id());
  EXPECT_EQ(b.pid, this_process_id());
#ifdef _WIN32
  EXPECT_FALSE(a.user_sid.empty()) << "the client's user was not identified";
  EXPECT_EQ(a.user_sid.rfind("S-1-", 0), 0u) << a.user_sid;
#else
  EXPECT_EQ(a.uid, static_cast<long long>(::geteuid()));
  EXPECT_EQ(b.uid, static_cast<long long>(::geteuid()));
  EXPECT_EQ(a.gid, static_cast<long long>(::getegid()));
#endif
}
