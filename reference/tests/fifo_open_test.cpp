// Opening FIFO ends on POSIX: the three forms, missing names, non-FIFOs and symlinks
// (spec FIFO-OPEN-*).
#ifndef _WIN32

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>

#include "fifo_test_helpers.hpp"
#include "npipe/npipe.hpp"

namespace {

using namespace std::chrono_literals;
using npipe::deadline;
using npipe::direction;
using npipe::errc;
using npipe::fifo_owner;
using npipe::open_fifo;
using npipe::test::count_open_fds;
using npipe::test::process;
using npipe::test::temp_dir;
using npipe::test::fifo::ask;
using npipe::test::fifo::count_threads;
using npipe::test::fifo::kReplyTimeout;
using npipe::test::fifo::lstat_of;
using npipe::test::fifo::next_line;
using npipe::test::fifo::spawn_peer;
using npipe::test::fifo::wait_until_blocked_in;
using clock_type = std::chrono::steady_clock;

errc open_error(const std::string& path, direction dir, deadline d) {
  try {
    open_fifo(path, dir, d);
  } catch (const npipe::error& e) {
    return e.value();
  }
  ADD_FAILURE() << "open of " << path << " succeeded";
  return errc::io_error;
}

// Proves `peer` is blocked inside open(2): asleep in openat and has not said "opened".
void expect_blocked_in_open(process& peer) {
  ASSERT_TRUE(wait_until_blocked_in(peer.pid(), SYS_openat, 10s)) << "never blocked in open";
  std::string line;
  EXPECT_FALSE(peer.read_line(line, 0ms)) << "the open completed: " << line;
}

// NPIPE_REQ: FIFO-OPEN-1
TEST(FifoOpen, BlockingReaderWaitsForAWriter) {
  npipe::test::watchdog dog(30s, "FifoOpen.BlockingReaderWaitsForAWriter");
  temp_dir dir;
  fifo_owner owner = fifo_owner::create(dir.file("f"), direction::write);
  auto reader = spawn_peer(owner.path(), "r", "forever");
  expect_blocked_in_open(reader);
  npipe::fifo_end out = owner.open();  // the reader is there: completes
  EXPECT_EQ(next_line(reader), "opened");
  out.write_all("hi", 2);
  EXPECT_EQ(ask(reader, "read 2"), "reading");
  EXPECT_EQ(next_line(reader), "data hi");
}

// NPIPE_REQ: FIFO-OPEN-2
TEST(FifoOpen, BlockingWriterWaitsForAReader) {
  npipe::test::watchdog dog(30s, "FifoOpen.BlockingWriterWaitsForAReader");
  temp_dir dir;
  fifo_owner owner = fifo_owner::create(dir.file("f"), direction::read);
  auto writer = spawn_peer(owner.path(), "w", "forever");
  expect_blocked_in_open(writer);
  npipe::fifo_end in = owner.open();
  EXPECT_EQ(next_line(writer), "opened");
  EXPECT_EQ(ask(writer, "write ok"), "wrote 2");
  char buf[2];
  EXPECT_EQ(in.read(buf, 2, deadline::after(10s)), 2u);
}

// NPIPE_REQ: FIFO-OPEN-2
TEST(FifoOpen, BlockingOwnerWriterWaitsForAReader) {
  npipe::test::watchdog dog(30s, "FifoOpen.BlockingOwnerWriterWaitsForAReader");
  temp_dir dir;
  const std::string path = dir.file("f");
  auto owner = process::spawn_self("fifo_owner", {path, "w", "600"});
  ASSERT_EQ(next_line(owner), "created");
  owner.write_stdin("open\n");
  expect_blocked_in_open(owner);
  npipe::fifo_end in = open_fifo(path, direction::read, deadline::immediate());
  EXPECT_EQ(next_line(owner), "opened");
}

// NPIPE_REQ: FIFO-OPEN-3
TEST(FifoOpen, ReaderWithDeadlineTimesOutAndLeavesNothingBehind) {
  npipe::test::watchdog dog(30s, "FifoOpen.ReaderWithDeadlineTimesOut");
  temp_dir dir;
  fifo_owner owner = fifo_owner::create(dir.file("f"), direction::read);
  const int fds = count_open_fds();
  const int threads = count_threads();
  for (auto wait : {0ms, 50ms, 300ms}) {
    const auto start = clock_type::now();
    try {
      owner.open(deadline::after(wait));
      FAIL() << "open succeeded with no writer";
    } catch (const npipe::error& e) {
      EXPECT_EQ(e.value(), errc::timeout) << e.what();
    }
    const auto took = clock_type::now() - start;
    EXPECT_GE(took, wait);
    EXPECT_LT(took, wait + 2s) << "the timeout came late";
    EXPECT_EQ(count_open_fds(), fds) << "descriptor leak after " << wait.count() << " ms";
    EXPECT_EQ(count_threads(), threads) << "thread left behind after " << wait.count() << " ms";
  }
  // Also by name, as a peer.
  EXPECT_EQ(open_error(owner.path(), direction::read, deadline::after(20ms)), errc::timeout);
  EXPECT_EQ(count_open_fds(), fds);
  EXPECT_EQ(count_threads(), threads);
}

// NPIPE_REQ: FIFO-OPEN-3
TEST(FifoOpen, WriterWithDeadlineTimesOutAndLeavesNothingBehind) {
  npipe::test::watchdog dog(30s, "FifoOpen.WriterWithDeadlineTimesOut");
  temp_dir dir;
  fifo_owner owner = fifo_owner::create(dir.file("f"), direction::write);
  const int fds = count_open_fds();
  const int threads = count_threads();
  for (auto wait : {0ms, 50ms, 300ms}) {
    const auto start = clock_type::now();
    try {
      owner.open(deadline::after(wait));
      FAIL() << "open succeeded with no reader";
    } catch (const npipe::error& e) {
      EXPECT_EQ(e.value(), errc::timeout) << e.what();
    }
    const auto took = clock_type::now() - start;
    EXPECT_GE(took, wait);
    EXPECT_LT(took, wait + 2s);
    EXPECT_EQ(count_open_fds(), fds);
    EXPECT_EQ(count_threads(), threads);
  }
  EXPECT_EQ(open_error(owner.path(), direction::write, deadline::after(20ms)), errc::timeout);
  EXPECT_EQ(count_open_fds(), fds);
}

// NPIPE_REQ: FIFO-OPEN-3 FIFO-OPEN-9
TEST(FifoOpen, ReaderWithDeadlineSucceedsWhenAWriterComesInTime) {
  npipe::test::watchdog dog(30s, "FifoOpen.ReaderWithDeadlineSucceeds");
  temp_dir dir;
  fifo_owner owner = fifo_owner::create(dir.file("f"), direction::read);
  {
    auto writer = spawn_peer(owner.path(), "w", "forever");
    const int fds = count_open_fds();  // now including the pipes to the child
    const int threads = count_threads();
    npipe::fifo_end in = owner.open(deadline::after(10s));
    EXPECT_EQ(next_line(writer), "opened");
    EXPECT_EQ(count_open_fds(), fds + 1) << "exactly the end's descriptor";
    EXPECT_EQ(count_threads(), threads);
    EXPECT_EQ(ask(writer, "write abc"), "wrote 3");
    char buf[8];
    EXPECT_EQ(in.read(buf, sizeof buf, deadline::after(10s)), 3u);
    EXPECT_EQ(::fcntl(in.native_handle(), F_GETFL) & O_NONBLOCK, 0) << "end not blocking";
    EXPECT_NE(::fcntl(in.native_handle(), F_GETFD) & FD_CLOEXEC, 0) << "end not close-on-exec";
    in.close();
    EXPECT_EQ(count_open_fds(), fds);
  }
}

// NPIPE_REQ: FIFO-OPEN-4
TEST(FifoOpen, NonBlockingWriterWithNoReaderGivesWouldBlock) {
  npipe::test::watchdog dog(30s, "FifoOpen.NonBlockingWriterWithNoReaderGivesWouldBlock");
  temp_dir dir;
  fifo_owner owner = fifo_owner::create(dir.file("f"), direction::write);
  const int fds = count_open_fds();
  try {
    owner.open(deadline::immediate());
    FAIL() << "opened with no reader";
  } catch (const npipe::error& e) {
    EXPECT_EQ(e.value(), errc::would_block);
    EXPECT_EQ(e.native_name(), "ENXIO");
  }
  EXPECT_EQ(open_error(owner.path(), direction::write, deadline::immediate()), errc::would_block);
  EXPECT_EQ(count_open_fds(), fds);
  // With a reader present the same open succeeds at once.
  npipe::fifo_end in = open_fifo(owner.path(), direction::read, deadline::immediate());
  npipe::fifo_end out = owner.open(deadline::immediate());
  EXPECT_TRUE(out.is_open());
}

// NPIPE_REQ: FIFO-OPEN-5 FIFO-EOF-1
TEST(FifoOpen, NonBlockingReaderWithNoWriterSucceedsAtOnceAndReadsEof) {
  npipe::test::watchdog dog(30s, "FifoOpen.NonBlockingReader");
  temp_dir dir;
  fifo_owner owner = fifo_owner::create(dir.file("f"), direction::read);
  npipe::fifo_end in = owner.open(deadline::immediate());
  ASSERT_TRUE(in.is_open());
  EXPECT_EQ(::fcntl(in.native_handle(), F_GETFL) & O_NONBLOCK, 0);
  // POSIX: read with no writer returns 0 (EOF) at once, in every form.
  char c;
  EXPECT_EQ(in.read(&c, 1, deadline::immediate()), 0u);
  EXPECT_EQ(in.read(&c, 1, deadline::after(10s)), 0u);
  EXPECT_EQ(in.read(&c, 1), 0u);
  // It is a reader: a non-blocking writer can now open.
  npipe::fifo_end out = open_fifo(owner.path(), direction::write, deadline::immediate());
  out.write_all("z", 1);
  EXPECT_EQ(in.read(&c, 1, deadline::after(10s)), 1u);
  EXPECT_EQ(c, 'z');
}

// NPIPE_REQ: FIFO-OPEN-6
TEST(FifoOpen, MissingNameGivesNotFoundInEveryForm) {
  npipe::test::watchdog dog(30s, "FifoOpen.MissingName");
  temp_dir dir;
  const std::string path = dir.file("absent");
  for (direction d : {direction::read, direction::write}) {
    for (deadline form : {deadline::forever(), deadline::immediate(), deadline::after(10s)}) {
      try {
        open_fifo(path, d, form);
        FAIL() << "opened a missing name";
      } catch (const npipe::error& e) {
        EXPECT_EQ(e.value(), errc::not_found);
        EXPECT_EQ(e.native_name(), "ENOENT");
        EXPECT_NE(e.message().find(path), std::string::npos) << "message lacks the path";
      }
    }
  }
  EXPECT_EQ(open_error(dir.file("absent-dir/x"), direction::read, deadline::immediate()),
            errc::not_found);
  EXPECT_FALSE(lstat_of(path)) << "open created the name";
}

// NPIPE_REQ: FIFO-OPEN-7
TEST(FifoOpen, NonFifoGivesNotAPipeWithoutBlockingTruncatingOrWriting) {
  npipe::test::watchdog dog(30s, "FifoOpen.NonFifo (a hang here means open blocked on a non-FIFO)");
  temp_dir dir;
  const std::string file = dir.file("file");
  npipe::test::fifo::write_file(file, "do not truncate");
  const std::string subdir = dir.file("dir");
  ASSERT_EQ(::mkdir(subdir.c_str(), 0700), 0);
  const std::string sock = dir.file("sock");
  int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(s, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(s, 1), 0);  // a live socket: a blocking open must not wait on it either
  const auto file_before = lstat_of(file);
  const int fds = count_open_fds();
  for (const std::string& path : {file, subdir, sock, std::string("/dev/null")}) {
    for (direction d : {direction::read, direction::write}) {
      for (deadline form : {deadline::forever(), deadline::immediate(), deadline::after(10s)}) {
        EXPECT_EQ(open_error(path, d, form), errc::not_a_pipe) << path;
      }
    }
  }
  EXPECT_EQ(count_open_fds(), fds);
  ::close(s);
  EXPECT_EQ(npipe::test::fifo::read_file(file), "do not truncate");
  const auto file_after = lstat_of(file);
  EXPECT_EQ(file_after->st_size, file_before->st_size);
  EXPECT_EQ(file_after->st_mtim.tv_nsec, file_before->st_mtim.tv_nsec);
  EXPECT_EQ(file_after->st_mtim.tv_sec, file_before->st_mtim.tv_sec);
}

// NPIPE_REQ: FIFO-OPEN-7
TEST(FifoOpen, OwnerWhoseFifoWasReplacedByAFileGetsAnErrorNotTheFile) {
  npipe::test::watchdog dog(30s, "FifoOpen.OwnerWhoseFifoWasReplacedByAFileGetsAnErrorNotTheFile");
  temp_dir dir;
  const std::string path = dir.file("f");
  fifo_owner owner = fifo_owner::create(path, direction::write);
  ASSERT_EQ(::unlink(path.c_str()), 0);
  npipe::test::fifo::write_file(path, "planted");
  for (deadline form : {deadline::forever(), deadline::immediate(), deadline::after(50ms)}) {
    try {
      owner.open(form);
      FAIL() << "opened the planted file";
    } catch (const npipe::error& e) {
      EXPECT_EQ(e.value(), errc::not_a_pipe) << e.what();
    }
  }
  EXPECT_EQ(npipe::test::fifo::read_file(path), "planted");
  owner.remove();
  EXPECT_TRUE(lstat_of(path)) << "remove() deleted a file that is not the owner's FIFO";
}

// NPIPE_REQ: FIFO-OPEN-8
TEST(FifoOpen, SymlinkIsNeverFollowed) {
  npipe::test::watchdog dog(30s, "FifoOpen.SymlinkIsNeverFollowed");
  temp_dir dir;
  const std::string fifo = dir.file("real");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string file = dir.file("file");
  npipe::test::fifo::write_file(file, "content");
  const std::string to_fifo = dir.file("to-fifo");
  ASSERT_EQ(::symlink("real", to_fifo.c_str()), 0);
  const std::string to_file = dir.file("to-file");
  ASSERT_EQ(::symlink("file", to_file.c_str()), 0);
  const std::string dangling = dir.file("dangling");
  ASSERT_EQ(::symlink("nowhere", dangling.c_str()), 0);
  // A reader held on the real FIFO: if the link were followed, a writer open would succeed.
  npipe::fifo_end holder = open_fifo(fifo, direction::read, deadline::immediate());
  for (const std::string& path : {to_fifo, to_file, dangling}) {
    for (direction d : {direction::read, direction::write}) {
      for (deadline form : {deadline::forever(), deadline::immediate(), deadline::after(10s)}) {
        try {
          open_fifo(path, d, form);
          FAIL() << "followed " << path;
        } catch (const npipe::error& e) {
          EXPECT_EQ(e.value(), errc::not_a_pipe) << path;
          EXPECT_NE(e.message().find("symbolic link"), std::string::npos) << e.what();
        }
      }
    }
  }
  EXPECT_EQ(npipe::test::fifo::read_file(file), "content");
  EXPECT_FALSE(lstat_of(dir.file("nowhere")));
  char c;
  EXPECT_EQ(holder.read(&c, 1, deadline::immediate()), 0u) << "something wrote to the FIFO";
}

// NPIPE_REQ: FIFO-OPEN-9
TEST(FifoOpen, BothSidesWithDeadlinesMeetReaderFirst) {
  npipe::test::watchdog dog(30s, "FifoOpen.BothSidesWithDeadlinesMeetReaderFirst");
  temp_dir dir;
  fifo_owner owner = fifo_owner::create(dir.file("f"), direction::write);
  auto reader = spawn_peer(owner.path(), "r", "10000");
  // The reader is waiting (its helper in open, its main thread on the deadline).
  ASSERT_TRUE(wait_until_blocked_in(reader.pid(), SYS_openat, 10s));
  std::string line;
  EXPECT_FALSE(reader.read_line(line, 0ms)) << line;
  npipe::fifo_end out = owner.open(deadline::after(10s));
  EXPECT_EQ(next_line(reader), "opened");
  out.write_all("ping", 4);
  EXPECT_EQ(ask(reader, "read 4"), "reading");
  EXPECT_EQ(next_line(reader), "data ping");
}

// NPIPE_REQ: FIFO-OPEN-9
TEST(FifoOpen, BothSidesWithDeadlinesMeetWriterFirst) {
  npipe::test::watchdog dog(30s, "FifoOpen.BothSidesWithDeadlinesMeetWriterFirst");
  temp_dir dir;
  fifo_owner owner = fifo_owner::create(dir.file("f"), direction::read);
  auto writer = spawn_peer(owner.path(), "w", "10000");
  // The writer is retrying (asleep between attempts, so it has tried) and has not opened.
  ASSERT_TRUE(wait_until_blocked_in(writer.pid(), SYS_clock_nanosleep, 10s));
  std::string line;
  EXPECT_FALSE(writer.read_line(line, 0ms)) << line;
  npipe::fifo_end in = owner.open(deadline::after(10s));
  EXPECT_EQ(next_line(writer), "opened");
  EXPECT_EQ(ask(writer, "write pong"), "wrote 4");
  char buf[4];
  ASSERT_EQ(in.read(buf, 4, deadline::after(10s)), 4u);
  EXPECT_EQ(std::string(buf, 4), "pong");
}

}  // namespace

#endif  // _WIN32

#ifndef _WIN32
namespace {

// A temporary directory that an unprivileged user may enter.
struct shared_dir {
  temp_dir dir;
  shared_dir() { ::chmod(dir.path().c_str(), 0755); }
};

// NPIPE_REQ: ERR-1 FIFO-OPEN-6
TEST(FifoOpen, OpenWithoutPermissionGivesPermissionDenied) {
  npipe::test::watchdog dog(30s, "FifoOpen.OpenWithoutPermission");
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run a peer as another user";
  shared_dir shared;
  fifo_owner owner = fifo_owner::create(shared.dir.file("f"), direction::read);  // 0600, root
  for (const char* form : {"immediate", "forever", "200"}) {
    auto peer = process::spawn_self("fifo_peer", {owner.path(), "w", form, "nobody"});
    EXPECT_EQ(next_line(peer), "error permission_denied") << form;
  }
}

// The reader's deadline form when it may not open the FIFO for writing (so it cannot release a
// waiting helper thread): it watches for data instead, and still times out in time.
// NPIPE_REQ: FIFO-OPEN-3 FIFO-OPEN-9
TEST(FifoOpen, ReaderWithDeadlineButNoWritePermissionStillMeetsOrTimesOut) {
  npipe::test::watchdog dog(30s, "FifoOpen.ReaderWithDeadlineNoWritePermission");
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run a peer as another user";
  shared_dir shared;
  npipe::fifo_options opts;
  opts.mode = 0644;  // others may read, not write
  fifo_owner owner = fifo_owner::create(shared.dir.file("f"), direction::write, opts);
  {
    auto reader = process::spawn_self("fifo_peer", {owner.path(), "r", "200", "nobody"});
    EXPECT_EQ(next_line(reader), "error timeout");
    EXPECT_EQ(reader.wait(kReplyTimeout), 0);
  }
  auto reader = process::spawn_self("fifo_peer", {owner.path(), "r", "10000", "nobody"});
  npipe::fifo_end out = owner.open(deadline::after(10s));  // the reader is there
  out.write_all("x", 1);                                   // what the waiting reader can see
  EXPECT_EQ(next_line(reader), "opened");
  EXPECT_EQ(ask(reader, "read 1"), "reading");
  EXPECT_EQ(next_line(reader), "data x");
}

}  // namespace
#endif  // _WIN32
