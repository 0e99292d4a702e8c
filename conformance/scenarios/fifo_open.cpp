// fifo_open.cpp: opening a FIFO, blocking, with a deadline, and non-blocking
// (spec/npipe.md, "FIFO profile: open").
#include <chrono>

#include "proc_checks.hpp"
#include "scenario.hpp"
#include "support.hpp"

namespace npipe::conformance {
namespace {

using namespace support;
using clock_type = std::chrono::steady_clock;

// The owner opens its end first and must wait; the peer's open releases it.
void owner_waits(scene& s, const std::string& owner_dir) {
  std::string f = s.path("f");
  std::string owner = create(s, s.owner(), f, owner_dir);
  call open = s.owner().start({{"op", "open"}, {"owner", owner}, {"dir", owner_dir}});
  s.expect_pending(open, "the owner's open (" + owner_dir + ") with no peer");
  s.peer().ok({{"op", "open"}, {"name", f}, {"dir", owner_dir == "r" ? "w" : "r"}});
  open.ok();
}

// The peer opens first and must wait; the owner's open releases it.
void peer_waits(scene& s, const std::string& owner_dir) {
  std::string f = s.path("f");
  std::string owner = create(s, s.owner(), f, owner_dir);
  std::string peer_dir = owner_dir == "r" ? "w" : "r";
  call open = s.peer().start({{"op", "open"}, {"name", f}, {"dir", peer_dir}});
  s.expect_pending(open, "the peer's open (" + peer_dir + ") with no owner end open");
  s.owner().ok({{"op", "open"}, {"owner", owner}, {"dir", owner_dir}});
  open.ok();
}

// An open with a deadline and nobody on the other side fails with timeout, not before the
// deadline, not long after it, and the agent holds nothing more than before.
void times_out(scene& s, actor& who, json open_cmd) {
  const int deadline_ms = 300;
  open_cmd["timeout_ms"] = deadline_ms;
  // /proc holdings are the agent's own only on Linux (under Wine they are Wine's descriptors).
  const bool linux_agent = who.platform() == "linux";
  proc::holdings before = linux_agent ? proc::holdings_of(who.pid()) : proc::holdings{};
  auto t0 = clock_type::now();
  who.fails(open_cmd, "timeout");
  long took = ms_since(t0);
  s.expect(took >= deadline_ms * 9 / 10, "timeout reported after " + std::to_string(took) +
                                             " ms, before the " + std::to_string(deadline_ms) +
                                             " ms deadline");
  // "Shortly after": generous, so that only a real overrun (an open that ignored its deadline
  // and was woken by something else) fails, never a slow machine.
  long slack = s.options().step_timeout.count() - deadline_ms;
  s.expect(took <= deadline_ms + slack, "timeout reported " + std::to_string(took) + " ms late");
  proc::holdings after = linux_agent ? proc::holdings_of(who.pid()) : proc::holdings{};
  // What proves the open goes on: a descriptor or child more, or a thread still in open(). A
  // thread more that is in no open() is not counted against the agent: managed runtimes start
  // threads of their own at any moment (a JIT compiler thread of the JVM, seen here once in a
  // loaded run), and the reply cannot be blamed for them.
  if (before.known() && after.known()) {
    s.expect(after.fds <= before.fds && after.threads_in_open <= before.threads_in_open &&
                 after.children <= before.children,
             "the timed-out open left something behind: before " + before.describe() + ", after " +
                 after.describe());
    if (after.threads > before.threads)
      s.note("threads " + std::to_string(before.threads) + " -> " + std::to_string(after.threads) +
             " across the timed-out open, none in open()");
  }
}

}  // namespace

NPIPE_SCENARIO(fifo_open, owner_read_waits_for_writer, "FIFO-OPEN-1", "fifo", "owner peer",
               "The owner's blocking open for reading waits until the peer opens for writing") {
  owner_waits(s, "r");
}

NPIPE_SCENARIO(fifo_open, owner_write_waits_for_reader, "FIFO-OPEN-2", "fifo", "owner peer",
               "The owner's blocking open for writing waits until the peer opens for reading") {
  owner_waits(s, "w");
}

NPIPE_SCENARIO(fifo_open, peer_read_waits_for_writer, "FIFO-OPEN-1", "fifo", "owner peer",
               needs::posix("a peer open waiting for the owner's end (FIFO-OPEN-11 (a))"),
               "The peer's blocking open for reading waits until the owner opens for writing") {
  peer_waits(s, "w");
}

NPIPE_SCENARIO(fifo_open, peer_write_waits_for_reader, "FIFO-OPEN-2", "fifo", "owner peer",
               needs::posix("a peer open waiting for the owner's end (FIFO-OPEN-11 (a))"),
               "The peer's blocking open for writing waits until the owner opens for reading") {
  peer_waits(s, "r");
}

NPIPE_SCENARIO(fifo_open, owner_read_deadline_times_out, "FIFO-OPEN-3 ERR-5", "fifo", "owner peer",
               "The owner's open for reading with a deadline and no writer fails with timeout") {
  std::string owner = create(s, s.owner(), s.path("f"), "r");
  times_out(s, s.owner(), {{"op", "open"}, {"owner", owner}, {"dir", "r"}});
  // Nothing was spoiled: the next open still meets a writer.
  call open = s.owner().start({{"op", "open"}, {"owner", owner}, {"dir", "r"}});
  s.peer().ok({{"op", "open"}, {"name", s.path("f")}, {"dir", "w"}});
  open.ok();
}

NPIPE_SCENARIO(fifo_open, owner_write_deadline_times_out, "FIFO-OPEN-3 ERR-5", "fifo", "owner peer",
               "The owner's open for writing with a deadline and no reader fails with timeout") {
  std::string owner = create(s, s.owner(), s.path("f"), "w");
  times_out(s, s.owner(), {{"op", "open"}, {"owner", owner}, {"dir", "w"}});
  call open = s.owner().start({{"op", "open"}, {"owner", owner}, {"dir", "w"}});
  s.peer().ok({{"op", "open"}, {"name", s.path("f")}, {"dir", "r"}});
  open.ok();
}

NPIPE_SCENARIO(
    fifo_open, peer_write_deadline_times_out, "FIFO-OPEN-3 ERR-5", "fifo", "owner peer",
    needs::posix("a peer open timing out before the owner's end opens (FIFO-OPEN-11 (a))"),
    "The peer's open for writing with a deadline and no reader fails with timeout") {
  create(s, s.owner(), s.path("f"), "r");
  times_out(s, s.peer(), {{"op", "open"}, {"name", s.path("f")}, {"dir", "w"}});
}

NPIPE_SCENARIO(
    fifo_open, peer_read_deadline_times_out, "FIFO-OPEN-3 ERR-5", "fifo", "owner peer",
    needs::posix("a peer open timing out before the owner's end opens (FIFO-OPEN-11 (a))"),
    "The peer's open for reading with a deadline and no writer fails with timeout") {
  create(s, s.owner(), s.path("f"), "w");
  times_out(s, s.peer(), {{"op", "open"}, {"name", s.path("f")}, {"dir", "r"}});
}

NPIPE_SCENARIO(
    fifo_open, peer_nonblocking_write_would_block, "FIFO-OPEN-4", "fifo", "owner peer",
    needs::posix(
        "a peer non-blocking open failing before the owner's end opens (FIFO-OPEN-11 (a))"),
    "The peer's non-blocking open for writing with no reader: would_block") {
  create(s, s.owner(), s.path("f"), "r");
  s.peer().fails({{"op", "open"}, {"name", s.path("f")}, {"dir", "w"}, {"timeout_ms", 0}},
                 "would_block");
}

NPIPE_SCENARIO(fifo_open, owner_nonblocking_write_would_block, "FIFO-OPEN-4", "fifo", "owner peer",
               "The owner's non-blocking open for writing with no reader: would_block") {
  std::string owner = create(s, s.owner(), s.path("f"), "w");
  s.owner().fails({{"op", "open"}, {"owner", owner}, {"dir", "w"}, {"timeout_ms", 0}},
                  "would_block");
}

NPIPE_SCENARIO(fifo_open, nonblocking_read_without_writer, "FIFO-OPEN-5", "fifo", "owner peer",
               "A non-blocking open for reading with no writer: at once on POSIX, would_block on "
               "Windows") {
  std::string f = s.path("f");
  std::string owner = create(s, s.owner(), f, "r");
  json cmd = {{"op", "open"}, {"owner", owner}, {"dir", "r"}, {"timeout_ms", 0}};
  if (!s.owner().posix()) {
    s.owner().fails(cmd, "would_block");
    s.note("PLATFORM-DEFINED FIFO-OPEN-5: outcome (b) seen: would_block");
    return;
  }
  std::string end = handle_of(s, s.owner().ok(cmd));
  // The end is a real reader: a writer now opens without waiting and its bytes arrive.
  std::string w = handle_of(s, s.peer().ok({{"op", "open"}, {"name", f}, {"dir", "w"}}));
  s.peer().ok({{"op", "write"}, {"handle", w}, {"data", b64("x")}});
  s.expect(read_exactly(s, s.owner(), end, 1) == "x", "the byte written did not arrive");
  s.note("PLATFORM-DEFINED FIFO-OPEN-5: outcome (a) seen: the open succeeded at once");
}

NPIPE_SCENARIO(fifo_open, missing_name_not_found, "FIFO-OPEN-6 ERR-1", "fifo", "agent",
               "Opening a name that does not exist gives not_found, in every form") {
  for (const char* dir : {"r", "w"}) {
    s.agent1().fails({{"op", "open"}, {"name", s.path("nothing")}, {"dir", dir}}, "not_found");
    s.agent1().fails({{"op", "open"}, {"name", s.path("nothing")}, {"dir", dir}, {"timeout_ms", 0}},
                     "not_found");
  }
}

NPIPE_SCENARIO(fifo_open, missing_name_with_deadline_not_found_at_once, "FIFO-OPEN-6", "fifo",
               "agent",
               "An open with a deadline of a name that does not exist fails not_found at once, not "
               "when the deadline passes") {
  // A deadline most of the step: "at once" is anything under half of it, so only an open that
  // waited for the name to appear (or for the deadline) fails, never a slow machine.
  const long deadline_ms = s.options().step_timeout.count() * 4 / 5;
  for (const char* dir : {"r", "w"}) {
    auto t0 = clock_type::now();
    s.agent1().fails(
        {{"op", "open"}, {"name", s.path("nothing")}, {"dir", dir}, {"timeout_ms", deadline_ms}},
        "not_found");
    long took = ms_since(t0);
    s.expect(took < deadline_ms / 2, "not_found came after " + std::to_string(took) + " ms of a " +
                                         std::to_string(deadline_ms) +
                                         " ms deadline: the open waited for the name");
  }
}

NPIPE_SCENARIO(fifo_open, deadlines_meet_owner_first, "FIFO-OPEN-9", "fifo", "owner peer",
               "Both sides open with deadlines, the owner first: both succeed") {
  std::string owner = create(s, s.owner(), s.path("f"), "r");
  call open =
      s.owner().start({{"op", "open"}, {"owner", owner}, {"dir", "r"}, {"timeout_ms", 4000}});
  s.expect_pending(open, "the owner's open with a deadline");
  s.peer().ok({{"op", "open"}, {"name", s.path("f")}, {"dir", "w"}, {"timeout_ms", 4000}});
  open.ok();
}

NPIPE_SCENARIO(fifo_open, deadlines_meet_peer_first, "FIFO-OPEN-9", "fifo", "owner peer",
               "Both sides open with deadlines, the peer first: both succeed") {
  std::string owner = create(s, s.owner(), s.path("f"), "w");
  call open =
      s.peer().start({{"op", "open"}, {"name", s.path("f")}, {"dir", "r"}, {"timeout_ms", 4000}});
  // On Windows the owner's instance exists from create, so the peer's open may complete at once
  // (FIFO-OPEN-11 (b)); only a POSIX peer must be seen waiting.
  if (s.peer().posix()) s.expect_pending(open, "the peer's open with a deadline");
  s.owner().ok({{"op", "open"}, {"owner", owner}, {"dir", "w"}, {"timeout_ms", 4000}});
  open.ok();
}

}  // namespace npipe::conformance
