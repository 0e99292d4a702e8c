// sigpipe.cpp: a write or send that meets no reader leaves the process's SIGPIPE disposition and
// its threads' masks as they were (spec/npipe.md FIFO-PIPE-2, CHAN-EOF-3), read from /proc before
// the agent's first operation and after the broken-pipe write.
#include <mutex>
#include <set>

#include "chan_support.hpp"
#include "proc_checks.hpp"

namespace npipe::conformance {
namespace {

using namespace support;

const scenario_needs kProcStatus =
    needs::linux_proc("SigIgn, SigCgt and SigBlk of the agent in /proc/PID/status");

proc::sigpipe_state sigpipe_now(scene& s, actor& who) {
  // Up to a step for the agent to go back to reading its stdin after its last reply. An
  // event-driven agent (Node.js, asyncio) waits in epoll, never in a read of fd 0: once it was
  // not seen there, later looks do not wait again (six waits of a step each would outlast the
  // scenario's watchdog).
  static std::mutex mu;
  static std::set<std::pair<const scene*, pid_t>> never_reads_stdin;  // this run's agents
  bool wait;
  {
    std::lock_guard<std::mutex> lock(mu);
    wait = !never_reads_stdin.count({&s, who.pid()});
  }
  auto st =
      proc::sigpipe_of(who.pid(), wait ? static_cast<int>(s.options().step_timeout.count()) : 0);
  if (st && !st->command_thread_blocks) {
    std::lock_guard<std::mutex> lock(mu);
    never_reads_stdin.insert({&s, who.pid()});
  }
  if (!st) s.fail("driver: cannot read /proc/" + std::to_string(who.pid()) + "/status");
  return *st;
}

void expect_unchanged(scene& s, actor& who, const proc::sigpipe_state& before,
                      const std::string& after_what) {
  proc::sigpipe_state after = sigpipe_now(s, who);
  if (!before.command_thread_blocks || !after.command_thread_blocks)
    s.note(who.raw().label() +
           ": never seen waiting in a read of fd 0, so its thread's mask was "
           "not compared (only the disposition)");
  std::string changed = proc::sigpipe_changes(before, after);
  s.expect(changed.empty(), who.raw().label() + " after " + after_what + ": " + changed +
                                " (before: " + before.describe() + "; after: " + after.describe() +
                                ")");
}

}  // namespace

NPIPE_SCENARIO(fifo_sigpipe, disposition_unchanged, "FIFO-PIPE-2 FIFO-PIPE-1", "fifo", "owner peer",
               kProcStatus,
               "Writes that succeed and a write with no reader leave SIGPIPE's disposition and "
               "every thread's mask as they were") {
  // Both writers: the owner's end and the peer's end are opened differently.
  for (const char* owner_dir : {"w", "r"}) {
    bool owner_writes = std::string(owner_dir) == "w";
    actor& writer = owner_writes ? s.owner() : s.peer();
    actor& reader = owner_writes ? s.peer() : s.owner();
    proc::sigpipe_state before = sigpipe_now(s, writer);
    if (before.ignored)
      s.note(writer.raw().label() + " runs with SIGPIPE ignored: FIFO-PIPE-1 is not exercised");
    auto p = open_pair(s, s.owner(), s.peer(), s.path(std::string("f") + owner_dir), owner_dir);
    std::string wend = owner_writes ? p.owner_end : p.peer_end;
    std::string rend = owner_writes ? p.peer_end : p.owner_end;
    writer.ok({{"op", "write"}, {"handle", wend}, {"data", b64("read")}});
    s.expect(read_exactly(s, reader, rend, 4) == "read", "the bytes written did not arrive");
    expect_unchanged(s, writer, before, "a write that succeeded");
    reader.ok({{"op", "close"}, {"handle", rend}});
    writer.fails({{"op", "write"}, {"handle", wend}, {"data", b64("lost")}}, "broken_pipe");
    expect_unchanged(s, writer, before, "a write with no reader (broken_pipe)");
    writer.ok({{"op", "close"}, {"handle", wend}});
    s.owner().ok({{"op", "close"}, {"handle", p.owner}});
  }
}

NPIPE_SCENARIO(chan_sigpipe, disposition_unchanged, "CHAN-EOF-3", "channel", "server client",
               kProcStatus,
               "Sends that succeed and sends to a gone peer leave SIGPIPE's disposition and every "
               "thread's mask as they were") {
  proc::sigpipe_state before = sigpipe_now(s, s.role("server"));
  auto p = connect_pair(s, s.role("server"), s.role("client"), s.path("sock"));
  exchange(s, s.role("server"), s.role("client"), p);
  expect_unchanged(s, s.role("server"), before, "a send that succeeded");
  s.role("client").ok({{"op", "close"}, {"handle", p.client}});
  // The first send may still be buffered; by the third it must fail (CHAN-EOF-3).
  json r;
  for (int i = 0; i < 3; ++i) {
    r = s.role("server").reply({{"op", "send"}, {"handle", p.server}, {"data", b64("anyone?")}});
    if (!r["ok"].get<bool>()) break;
  }
  s.expect(!r["ok"].get<bool>() && r.value("error", std::string()) == "broken_pipe",
           "send to a gone peer gave " + r.dump() + ", not broken_pipe");
  expect_unchanged(s, s.role("server"), before, "a send to a gone peer (broken_pipe)");
}

}  // namespace npipe::conformance
