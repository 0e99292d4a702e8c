// POSIX FIFO ends keep the mode they were opened in (npipe/fifo.hpp, io_mode): a call with a
// deadline never flips O_NONBLOCK on the shared file description, which another thread or process
// holding the same description would see; and a descriptor from pipe(2) can be adopted.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "npipe/npipe.hpp"
#include "support.hpp"

namespace {

using namespace std::chrono_literals;
using npipe::deadline;
using npipe::direction;

struct fifo_pair {
  npipe::fifo_owner owner;
  npipe::fifo_end reader;
  npipe::fifo_end writer;
};

fifo_pair open_pair(const std::string& path, npipe::io_mode mode) {
  fifo_pair p;
  npipe::fifo_options o;
  o.mode_of_ends = mode;
  p.owner = npipe::fifo_owner::create(path, direction::read, o);
  std::thread t(
      [&] { p.writer = npipe::open_fifo(path, direction::write, deadline::after(10s), mode); });
  p.reader = p.owner.open(deadline::after(10s));
  t.join();
  return p;
}

bool nonblocking(int fd) {
  return (::fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
}

}  // namespace

// NPIPE_REQ: FIFO-IO-3
// While a deadline read waits on a blocking end, the descriptor stays blocking: before, the call
// set O_NONBLOCK for its duration, and a second thread (or a child holding the same description)
// doing a plain blocking read(2) then got EAGAIN.
TEST(PosixIoMode, ADeadlineReadNeverFlipsABlockingEnd) {
  npipe::test::watchdog dog(20s);
  npipe::test::temp_dir dir;
  fifo_pair p = open_pair(dir.file("f"), npipe::io_mode::blocking);
  const int fd = p.reader.native_handle();
  ASSERT_FALSE(nonblocking(fd));
  std::atomic<bool> done{false};
  std::thread waiter([&] {
    char c;
    std::error_code ec;
    p.reader.read(&c, 1, deadline::after(700ms), ec);
    done = true;
  });
  bool seen_nonblocking = false;
  const auto until = std::chrono::steady_clock::now() + 500ms;
  while (!done && std::chrono::steady_clock::now() < until) {
    seen_nonblocking = seen_nonblocking || nonblocking(fd);
    std::this_thread::sleep_for(1ms);  // sampling the flag, not synchronising
  }
  waiter.join();
  EXPECT_FALSE(seen_nonblocking) << "the deadline read set O_NONBLOCK on the shared description";
  EXPECT_FALSE(nonblocking(fd));
  EXPECT_EQ(p.reader.mode(), npipe::io_mode::blocking);
}

// NPIPE_REQ: FIFO-IO-3 FIFO-IO-4
TEST(PosixIoMode, NonblockingEndsAreNonblockingForTheirWholeLife) {
  npipe::test::watchdog dog(20s);
  npipe::test::temp_dir dir;
  fifo_pair p = open_pair(dir.file("f"), npipe::io_mode::nonblocking);
  EXPECT_TRUE(nonblocking(p.reader.native_handle()));
  EXPECT_TRUE(nonblocking(p.writer.native_handle()));
  // Every form works on them, the forever one included.
  std::error_code ec;
  char c = 0;
  EXPECT_EQ(p.reader.read(&c, 1, deadline::immediate(), ec), 0u);
  EXPECT_EQ(ec, npipe::errc::would_block);
  p.writer.write_all("z", 1);
  EXPECT_EQ(p.reader.read(&c, 1), 1u);
  EXPECT_EQ(c, 'z');
  EXPECT_TRUE(nonblocking(p.reader.native_handle()));
  p.writer.close();
  EXPECT_EQ(p.reader.read(&c, 1, deadline::after(10s)), 0u);  // EOF
}

// NPIPE_REQ: FIFO-IO-1 FIFO-EOF-1
TEST(PosixIoMode, AdoptsBothEndsOfAPipe) {
  npipe::test::watchdog dog(20s);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  auto r = npipe::fifo_end::from_native(fds[0], direction::read, npipe::io_mode::nonblocking);
  auto w = npipe::fifo_end::from_native(fds[1], direction::write);
  EXPECT_TRUE(nonblocking(fds[0]));
  EXPECT_FALSE(nonblocking(fds[1]));
  w.write_all("hi", 2);
  w.close();
  char buf[4];
  EXPECT_EQ(r.read(buf, sizeof buf, deadline::after(10s)), 2u);
  EXPECT_EQ(r.read(buf, sizeof buf, deadline::after(10s)), 0u);
  // The wrong direction, or not a FIFO: refused, and the descriptor closed.
  int more[2];
  ASSERT_EQ(::pipe(more), 0);
  std::error_code ec;
  auto wrong =
      npipe::fifo_end::from_native(more[0], direction::write, npipe::io_mode::blocking, ec);
  EXPECT_EQ(ec, npipe::errc::io_error);
  EXPECT_EQ(::fcntl(more[0], F_GETFD), -1) << "the refused descriptor was not closed";
  ::close(more[1]);
  npipe::test::temp_dir dir;
  const std::string file = dir.file("regular");
  const int reg = ::open(file.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  ASSERT_GE(reg, 0);
  auto notfifo = npipe::fifo_end::from_native(reg, direction::read, npipe::io_mode::blocking, ec);
  EXPECT_EQ(ec, npipe::errc::not_a_pipe);
}
