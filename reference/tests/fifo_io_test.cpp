// Data through POSIX FIFOs: order, atomicity, blocking, EOF, broken pipe, a killed owner
// (spec FIFO-IO-*, FIFO-EOF-*, FIFO-PIPE-*, FIFO-LIFE-2).
#ifndef _WIN32

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fcntl.h>

#include <cstring>
#include <functional>
#include <map>
#include <vector>

#include "fifo_test_helpers.hpp"
#include "npipe/npipe.hpp"

namespace {

using namespace std::chrono_literals;
using npipe::deadline;
using npipe::direction;
using npipe::errc;
using npipe::fifo_end;
using npipe::fifo_owner;
using npipe::open_fifo;
using npipe::test::process;
using npipe::test::temp_dir;
using npipe::test::fifo::ask;
using npipe::test::fifo::fnv1a;
using npipe::test::fifo::kReplyTimeout;
using npipe::test::fifo::next_line;
using npipe::test::fifo::pattern_byte;
using npipe::test::fifo::spawn_peer;
using npipe::test::fifo::wait_until_blocked_in;

// Both ends in this process: a reader opened non-blocking, then a writer.
struct local_pair {
  fifo_owner owner;
  fifo_end in;
  fifo_end out;
  explicit local_pair(const std::string& path)
      : owner(fifo_owner::create(path, direction::read)),
        in(owner.open(deadline::immediate())),
        out(open_fifo(path, direction::write, deadline::immediate())) {}
};

errc error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const npipe::error& e) {
    return e.value();
  }
  ADD_FAILURE() << "no error";
  return errc::io_error;
}

// NPIPE_REQ: FIFO-IO-1 FIFO-EOF-1
TEST(FifoIo, LargeTransferArrivesInOrderAndUnchangedFromAnotherProcess) {
  npipe::test::watchdog dog(60s, "FifoIo.LargeTransfer");
  temp_dir dir;
  fifo_owner owner = fifo_owner::create(dir.file("f"), direction::read);
  auto writer = spawn_peer(owner.path(), "w");
  fifo_end in = owner.open(deadline::after(10s));
  ASSERT_EQ(next_line(writer), "opened");
  const std::size_t total = 8u << 20;  // far beyond the pipe buffer: many partial reads
  writer.write_stdin("writepat " + std::to_string(total) + "\nclose\n");
  std::vector<unsigned char> buf(100000);
  std::size_t got = 0;
  std::size_t mismatches = 0;
  for (;;) {
    const std::size_t n = in.read(buf.data(), buf.size(), deadline::after(10s));
    if (n == 0) break;
    for (std::size_t i = 0; i < n; ++i)
      mismatches += buf[i] != pattern_byte(got + i);
    got += n;
  }
  EXPECT_EQ(got, total);
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(next_line(writer), "wrote " + std::to_string(total));
  EXPECT_EQ(next_line(writer), "closed");
}

// NPIPE_REQ: FIFO-IO-1
TEST(FifoIo, LargeTransferToAnotherProcess) {
  npipe::test::watchdog dog(60s, "FifoIo.LargeTransferToAnotherProcess");
  temp_dir dir;
  fifo_owner owner = fifo_owner::create(dir.file("f"), direction::write);
  auto reader = spawn_peer(owner.path(), "r");
  fifo_end out = owner.open(deadline::after(10s));
  ASSERT_EQ(next_line(reader), "opened");
  reader.write_stdin("readall\n");
  const std::size_t total = 5u << 20;
  std::vector<unsigned char> data(total);
  for (std::size_t i = 0; i < total; ++i)
    data[i] = pattern_byte(i);
  out.write_all(data.data(), data.size());
  out.close();
  EXPECT_EQ(next_line(reader),
            "total " + std::to_string(total) + " " + std::to_string(fnv1a(data.data(), total)));
}

// NPIPE_REQ: FIFO-IO-2 FIFO-EOF-2
TEST(FifoIo, WritesOfPipeBufBytesFromConcurrentWritersAreNeverInterleaved) {
  npipe::test::watchdog dog(60s, "FifoIo.Atomicity");
  temp_dir dir;
  fifo_owner owner = fifo_owner::create(dir.file("f"), direction::read);
  fifo_end in = owner.open(deadline::immediate());
  // Hold a writer ourselves so that EOF cannot come before every child has opened.
  fifo_end keep = open_fifo(owner.path(), direction::write, deadline::immediate());
  const int writers = 4, records = 64;
  std::vector<process> children;
  for (int i = 0; i < writers; ++i) {
    children.push_back(process::spawn_self(
        "fifo_record_writer",
        {owner.path(), std::string(1, static_cast<char>('A' + i)), std::to_string(records)}));
  }
  // Each child says "opened" before its first write, so this needs no draining: a writer that
  // finds the FIFO full blocks only after it has spoken.
  std::size_t opened = 0;
  for (auto& c : children)
    opened += next_line(c) == "opened";
  ASSERT_EQ(opened, static_cast<std::size_t>(writers));
  keep.close();
  std::string data;
  std::vector<char> buf(65536);
  for (;;) {
    const std::size_t n = in.read(buf.data(), buf.size(), deadline::after(20s));
    if (n == 0) break;
    data.append(buf.data(), n);
  }
  for (auto& c : children)
    EXPECT_EQ(c.wait(kReplyTimeout), 0);
  const std::size_t record = fifo_end::pipe_buf();
  ASSERT_EQ(data.size(), record * writers * records);
  std::map<char, int> seen;
  std::size_t mixed = 0;
  for (std::size_t off = 0; off < data.size(); off += record) {
    const char first = data[off];
    if (data.find_first_not_of(first, off) < off + record) ++mixed;
    ++seen[first];
  }
  EXPECT_EQ(mixed, 0u) << "records of PIPE_BUF bytes were interleaved";
  for (int i = 0; i < writers; ++i)
    EXPECT_EQ(seen[static_cast<char>('A' + i)], records);
}

// NPIPE_REQ: FIFO-IO-3
TEST(FifoIo, ReadOfAnEmptyFifoWithAWriterWaits) {
  npipe::test::watchdog dog(30s, "FifoIo.ReadOfAnEmptyFifoWithAWriterWaits");
  temp_dir dir;
  local_pair p(dir.file("f"));
  char c;
  EXPECT_EQ(error_of([&] { p.in.read(&c, 1, deadline::immediate()); }), errc::would_block);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(error_of([&] { p.in.read(&c, 1, deadline::after(100ms)); }), errc::timeout);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
  EXPECT_EQ(::fcntl(p.in.native_handle(), F_GETFL) & O_NONBLOCK, 0) << "left non-blocking";
  // The same end still reads what comes afterwards.
  p.out.write_all("k", 1);
  EXPECT_EQ(p.in.read(&c, 1, deadline::immediate()), 1u);
  EXPECT_EQ(c, 'k');
}

// NPIPE_REQ: FIFO-IO-3
TEST(FifoIo, BlockingReadWaitsInAnotherProcessUntilDataComes) {
  npipe::test::watchdog dog(30s, "FifoIo.BlockingReadWaits");
  temp_dir dir;
  fifo_owner owner = fifo_owner::create(dir.file("f"), direction::write);
  auto reader = spawn_peer(owner.path(), "r");
  fifo_end out = owner.open(deadline::after(10s));
  ASSERT_EQ(next_line(reader), "opened");
  EXPECT_EQ(ask(reader, "read 5"), "reading");
  ASSERT_TRUE(wait_until_blocked_in(reader.pid(), SYS_read, 10s)) << "not blocked in SYS_read";
  std::string line;
  EXPECT_FALSE(reader.read_line(line, 0ms)) << "read returned: " << line;
  out.write_all("later", 5);
  EXPECT_EQ(next_line(reader), "data later");
}

// NPIPE_REQ: FIFO-IO-4
TEST(FifoIo, WriteToAFullFifoWaitsUntilTheReaderMakesRoom) {
  npipe::test::watchdog dog(30s, "FifoIo.WriteToAFullFifo");
  temp_dir dir;
  fifo_owner owner = fifo_owner::create(dir.file("f"), direction::read);
  auto writer = spawn_peer(owner.path(), "w");
  fifo_end in = owner.open(deadline::after(10s));
  ASSERT_EQ(next_line(writer), "opened");
  const std::size_t total = 1u << 20;  // 16 times the default 64 KiB buffer
  writer.write_stdin("writepat " + std::to_string(total) + "\n");
  ASSERT_TRUE(wait_until_blocked_in(writer.pid(), SYS_write, 10s)) << "not blocked in SYS_write";
  std::string line;
  EXPECT_FALSE(writer.read_line(line, 0ms)) << "the write finished into a full FIFO: " << line;
  std::vector<unsigned char> buf(65536);
  std::size_t got = 0;
  while (got < total) {
    const std::size_t n = in.read(buf.data(), buf.size(), deadline::after(10s));
    ASSERT_GT(n, 0u);
    got += n;
  }
  EXPECT_EQ(next_line(writer), "wrote " + std::to_string(total));
}

// NPIPE_REQ: FIFO-IO-4 FIFO-IO-2
TEST(FifoIo, WriteWithDeadlineToAFullFifoReportsWhatItAcceptedAndLosesNothing) {
  npipe::test::watchdog dog(30s, "FifoIo.WriteWithDeadline");
  temp_dir dir;
  local_pair p(dir.file("f"));
  const std::size_t pipe_buf = fifo_end::pipe_buf();
  std::string record(pipe_buf, 'r');
  std::size_t accepted = 0;
  // Fill it with whole records: each is all-or-nothing (would_block once full).
  for (;;) {
    try {
      const std::size_t n = p.out.write(record.data(), record.size(), deadline::immediate());
      ASSERT_EQ(n, record.size()) << "a PIPE_BUF record was split";
      accepted += n;
    } catch (const npipe::error& e) {
      EXPECT_EQ(e.value(), errc::would_block);
      break;
    }
    ASSERT_LT(accepted, 64u << 20) << "the FIFO never filled";
  }
  EXPECT_EQ(error_of([&] { p.out.write("x", 1, deadline::after(50ms)); }), errc::timeout);
  // Make room for less than a large write: it takes what fits and says how much.
  std::vector<char> buf(pipe_buf);
  ASSERT_EQ(p.in.read(buf.data(), buf.size(), deadline::immediate()), pipe_buf);
  accepted -= pipe_buf;
  std::string big(pipe_buf * 3, 'b');
  const std::size_t part = p.out.write(big.data(), big.size(), deadline::after(50ms));
  EXPECT_GT(part, 0u);
  EXPECT_LT(part, big.size());
  accepted += part;
  // Everything accepted is readable, nothing more.
  std::size_t drained = 0;
  p.out.close();
  std::vector<char> sink(65536);
  for (std::size_t n; (n = p.in.read(sink.data(), sink.size(), deadline::after(10s))) != 0;) {
    drained += n;
  }
  EXPECT_EQ(drained, accepted);
}

// NPIPE_REQ: FIFO-EOF-1
TEST(FifoIo, ReaderGetsAllDataThenEofAfterTheWriterCloses) {
  npipe::test::watchdog dog(30s, "FifoIo.EofAfterClose");
  temp_dir dir;
  fifo_owner owner = fifo_owner::create(dir.file("f"), direction::read);
  auto writer = spawn_peer(owner.path(), "w");
  fifo_end in = owner.open();
  ASSERT_EQ(next_line(writer), "opened");
  EXPECT_EQ(ask(writer, "write last words"), "wrote 10");
  writer.write_stdin("exit\n");
  ASSERT_EQ(writer.wait(kReplyTimeout), 0);
  char buf[32];
  std::string got;
  for (std::size_t n; (n = in.read(buf, sizeof buf)) != 0;)
    got.append(buf, n);
  EXPECT_EQ(got, "last words");
  EXPECT_EQ(in.read(buf, sizeof buf, deadline::immediate()), 0u) << "EOF is reported again";
}

// NPIPE_REQ: FIFO-EOF-2
TEST(FifoIo, EofComesOnlyAfterTheLastWriterCloses) {
  npipe::test::watchdog dog(30s, "FifoIo.EofAfterLastWriter");
  temp_dir dir;
  fifo_owner owner = fifo_owner::create(dir.file("f"), direction::read);
  fifo_end in = owner.open(deadline::immediate());
  auto first = spawn_peer(owner.path(), "w");
  auto second = spawn_peer(owner.path(), "w");
  ASSERT_EQ(next_line(first), "opened");
  ASSERT_EQ(next_line(second), "opened");
  EXPECT_EQ(ask(first, "close"), "closed");
  char c;
  EXPECT_EQ(error_of([&] { in.read(&c, 1, deadline::immediate()); }), errc::would_block)
      << "EOF while a writer is still there";
  EXPECT_EQ(ask(second, "write 2"), "wrote 1");
  EXPECT_EQ(in.read(&c, 1, deadline::after(10s)), 1u);
  // The blocked read wakes with EOF when the last writer goes.
  second.write_stdin("close\n");
  EXPECT_EQ(in.read(&c, 1, deadline::after(10s)), 0u);
  EXPECT_EQ(next_line(second), "closed");
}

// NPIPE_REQ: FIFO-EOF-3
TEST(FifoIo, EofIsNotStickyOnPosix) {
  npipe::test::watchdog dog(30s, "FifoIo.EofIsNotSticky");
  temp_dir dir;
  fifo_owner owner = fifo_owner::create(dir.file("f"), direction::read);
  fifo_end in = owner.open(deadline::immediate());
  {
    auto writer = spawn_peer(owner.path(), "w");
    ASSERT_EQ(next_line(writer), "opened");
    EXPECT_EQ(ask(writer, "write one"), "wrote 3");
    EXPECT_EQ(ask(writer, "close"), "closed");
  }
  char buf[8];
  EXPECT_EQ(in.read(buf, sizeof buf, deadline::after(10s)), 3u);
  EXPECT_EQ(in.read(buf, sizeof buf, deadline::after(10s)), 0u);  // EOF
  auto again = spawn_peer(owner.path(), "w");
  ASSERT_EQ(next_line(again), "opened");
  EXPECT_EQ(ask(again, "write two"), "wrote 3");
  ASSERT_EQ(in.read(buf, sizeof buf, deadline::after(10s)), 3u) << "same end, new writer";
  EXPECT_EQ(std::string(buf, 3), "two");
}

bool same_action(const struct sigaction& a, const struct sigaction& b) {
  // Member by member: the bytes of sigset_t beyond the kernel's 64 signals are not defined.
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sigismember(&a.sa_mask, sig) != sigismember(&b.sa_mask, sig)) return false;
  }
  return a.sa_handler == b.sa_handler && a.sa_flags == b.sa_flags;
}

bool sigpipe_pending() {
  sigset_t pending;
  sigemptyset(&pending);
  sigpending(&pending);
  return sigismember(&pending, SIGPIPE) == 1;
}

bool sigpipe_blocked() {
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  return sigismember(&mask, SIGPIPE) == 1;
}

// NPIPE_REQ: FIFO-PIPE-1 FIFO-PIPE-2
TEST(FifoIo, WriteWithNoReaderIsBrokenPipeAndTheSignalStateIsUnchanged) {
  npipe::test::watchdog dog(30s,
                            "FifoIo.WriteWithNoReaderIsBrokenPipeAndTheSignalStateIsUnchanged");
  temp_dir dir;
  local_pair p(dir.file("f"));
  struct sigaction before {};
  ASSERT_EQ(sigaction(SIGPIPE, nullptr, &before), 0);
  const bool blocked_before = sigpipe_blocked();
  p.in.close();
  for (deadline form : {deadline::forever(), deadline::immediate(), deadline::after(1s)}) {
    try {
      p.out.write("x", 1, form);
      FAIL() << "write with no reader succeeded";
    } catch (const npipe::error& e) {
      EXPECT_EQ(e.value(), errc::broken_pipe);
      EXPECT_EQ(e.native_name(), "EPIPE");
    }
  }
  struct sigaction after {};
  ASSERT_EQ(sigaction(SIGPIPE, nullptr, &after), 0);
  EXPECT_TRUE(same_action(before, after))
      << "SIGPIPE disposition changed: handler " << reinterpret_cast<void*>(before.sa_handler)
      << " -> " << reinterpret_cast<void*>(after.sa_handler) << ", flags " << before.sa_flags
      << " -> " << after.sa_flags;
  EXPECT_EQ(sigpipe_blocked(), blocked_before) << "signal mask not restored";
  EXPECT_FALSE(sigpipe_pending()) << "a SIGPIPE was left pending";
}

// NPIPE_REQ: FIFO-PIPE-1 FIFO-PIPE-2
TEST(FifoIo, ACallersOwnPendingSigpipeIsLeftPendingAndBlocked) {
  npipe::test::watchdog dog(30s, "FifoIo.ACallersOwnPendingSigpipeIsLeftPendingAndBlocked");
  temp_dir dir;
  local_pair p(dir.file("f"));
  sigset_t only, old;
  sigemptyset(&only);
  sigaddset(&only, SIGPIPE);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &only, &old), 0);
  ASSERT_EQ(pthread_kill(pthread_self(), SIGPIPE), 0);
  ASSERT_TRUE(sigpipe_pending());
  p.in.close();
  EXPECT_EQ(error_of([&] { p.out.write("x", 1); }), errc::broken_pipe);
  EXPECT_TRUE(sigpipe_pending()) << "the caller's own pending SIGPIPE was consumed";
  EXPECT_TRUE(sigpipe_blocked()) << "the caller's mask was not restored";
  const timespec zero{0, 0};
  EXPECT_EQ(sigtimedwait(&only, nullptr, &zero), SIGPIPE);
  EXPECT_FALSE(sigpipe_pending()) << "more than one SIGPIPE pending";
  ASSERT_EQ(pthread_sigmask(SIG_SETMASK, &old, nullptr), 0);
}

// NPIPE_REQ: FIFO-PIPE-1 FIFO-PIPE-2
TEST(FifoIo, ProcessWithDefaultSigpipeIsNotKilled) {
  npipe::test::watchdog dog(30s, "FifoIo.ProcessWithDefaultSigpipeIsNotKilled");
  temp_dir dir;
  fifo_owner owner = fifo_owner::create(dir.file("f"), direction::read);
  fifo_end in = owner.open(deadline::immediate());
  auto writer = process::spawn_self("fifo_sigpipe_writer", {owner.path()});
  ASSERT_EQ(next_line(writer), "opened");
  in.close();
  writer.write_stdin("go\n");
  EXPECT_EQ(next_line(writer), "error broken_pipe");
  EXPECT_EQ(next_line(writer), "dfl clear");
  EXPECT_EQ(writer.wait(kReplyTimeout), 0) << "128+13 means killed by SIGPIPE";
}

// NPIPE_REQ: FIFO-LIFE-2
TEST(FifoIo, KilledOwnerGivesTheBlockedPeerReaderEof) {
  npipe::test::watchdog dog(30s, "FifoIo.KilledOwnerReaderEof");
  temp_dir dir;
  const std::string path = dir.file("f");
  auto owner = process::spawn_self("fifo_owner", {path, "w", "600"});
  ASSERT_EQ(next_line(owner), "created");
  owner.write_stdin("open\n");
  auto reader = spawn_peer(path, "r");
  ASSERT_EQ(next_line(reader), "opened");
  ASSERT_EQ(next_line(owner), "opened");
  EXPECT_EQ(ask(owner, "write before"), "wrote 6");
  EXPECT_EQ(ask(reader, "read 6"), "reading");
  EXPECT_EQ(next_line(reader), "data before");
  EXPECT_EQ(ask(reader, "read 6"), "reading");
  ASSERT_TRUE(wait_until_blocked_in(reader.pid(), SYS_read, 10s)) << "not blocked in SYS_read";
  owner.kill();
  EXPECT_EQ(next_line(reader), "eof");
}

// NPIPE_REQ: FIFO-LIFE-2
TEST(FifoIo, KilledOwnerGivesThePeerWriterBrokenPipe) {
  npipe::test::watchdog dog(30s, "FifoIo.KilledOwnerWriterBrokenPipe");
  temp_dir dir;
  const std::string path = dir.file("f");
  auto owner = process::spawn_self("fifo_owner", {path, "r", "600"});
  ASSERT_EQ(next_line(owner), "created");
  owner.write_stdin("open\n");
  auto writer = spawn_peer(path, "w");
  ASSERT_EQ(next_line(writer), "opened");
  ASSERT_EQ(next_line(owner), "opened");
  // The writer is blocked on a full FIFO when the owner dies.
  writer.write_stdin("writepat 1048576\n");
  ASSERT_TRUE(wait_until_blocked_in(writer.pid(), SYS_write, 10s)) << "not blocked in SYS_write";
  owner.kill();
  EXPECT_EQ(next_line(writer), "error broken_pipe");
  EXPECT_EQ(ask(writer, "write more"), "error broken_pipe");
  writer.write_stdin("exit\n");
  EXPECT_EQ(writer.wait(kReplyTimeout), 0) << "the peer writer was killed";
}

}  // namespace

#endif  // _WIN32
