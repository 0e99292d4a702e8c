// inherit.cpp: what a child process of an agent inherits: nothing of the library's, so the other
// side still sees EOF and broken_pipe (spec/npipe.md FIFO-EOF-4, CHAN-EOF-4). Two ways to see it:
// the agent's optional `spawn` op starts an idle child, then the peer must still see the end
// close (every platform); and on Linux the flags of every descriptor the library opened, read
// from /proc (every Linux agent, spawn or not).
#include <algorithm>

#include "chan_support.hpp"
#include "proc_checks.hpp"

namespace npipe::conformance {
namespace {

using namespace support;

// The descriptors of the agent's process that are new since `before` and lack close-on-exec.
std::string inheritable_since(scene& s, actor& who, const std::set<int>& before) {
  auto now = proc::open_fds(who.pid());
  if (!now) s.fail("driver: cannot read /proc/" + std::to_string(who.pid()) + "/fd");
  std::string bad;
  for (int fd : *now) {
    if (before.count(fd)) continue;
    auto cloexec = proc::close_on_exec(who.pid(), fd);
    if (cloexec && !*cloexec)
      bad += (bad.empty() ? "" : ", ") + std::to_string(fd) + " (" +
             proc::fd_target(who.pid(), fd) + ")";
  }
  return bad;
}

std::set<int> fds_of(scene& s, actor& who) {
  auto fds = proc::open_fds(who.pid());
  if (!fds) s.fail("driver: cannot read /proc/" + std::to_string(who.pid()) + "/fd");
  return *fds;
}

std::string spawn(actor& who) {
  json r = who.ok({{"op", "spawn"}});
  if (!r.contains("handle") || !r["handle"].is_string())
    throw step_failed("spawn replied without a handle: " + r.dump());
  return r["handle"].get<std::string>();
}

// The reply to `c` if it comes within the step deadline; otherwise the agent is killed and the
// scenario fails with `blocked` (no deadline option needed: an agent without one is still judged).
json reply_or_fail(scene& s, call& c, const std::string& blocked) {
  auto r = c.who().poll_reply(s.options().step_timeout);
  if (!r) {
    c.who().kill();
    s.fail(blocked);
  }
  return *r;
}

}  // namespace

NPIPE_SCENARIO(fifo_inherit, child_keeps_no_end, "FIFO-EOF-4 FIFO-EOF-1 FIFO-PIPE-1", "fifo",
               "owner peer",
               "An end is not inherited: with a child of the writer alive the reader still gets "
               "EOF, with a child of the reader alive the writer still gets broken_pipe") {
  // Each side writes once, so both the owner's open and the peer's open are covered.
  for (const char* owner_dir : {"w", "r"}) {
    std::string f = s.path(std::string("eof-") + owner_dir);
    auto p = open_pair(s, s.owner(), s.peer(), f, owner_dir);
    bool owner_writes = std::string(owner_dir) == "w";
    actor& writer = owner_writes ? s.owner() : s.peer();
    actor& reader = owner_writes ? s.peer() : s.owner();
    std::string wend = owner_writes ? p.owner_end : p.peer_end;
    std::string rend = owner_writes ? p.peer_end : p.owner_end;
    std::string child = spawn(writer);
    writer.ok({{"op", "write"}, {"handle", wend}, {"data", b64("x")}});
    writer.ok({{"op", "close"}, {"handle", wend}});
    s.expect(read_exactly(s, reader, rend, 1) == "x", "the byte written did not arrive");
    std::string why = std::string("the ") + (owner_writes ? "owner" : "peer") +
                      " wrote and closed its end while a child process of it was alive; ";
    call read = reader.start({{"op", "read"}, {"handle", rend}});
    json r = reply_or_fail(s, read,
                           why +
                               "the reader never got EOF: the child holds the write "
                               "end (not close-on-exec)");
    s.expect(r.value("ok", false) && r.value("eof", false),
             why + "the reader got " + r.dump() + " instead of EOF");
    writer.ok({{"op", "close"}, {"handle", child}});
    reader.ok({{"op", "close"}, {"handle", rend}});
    s.owner().ok({{"op", "close"}, {"handle", p.owner}});
  }
  for (const char* owner_dir : {"r", "w"}) {
    std::string f = s.path(std::string("pipe-") + owner_dir);
    auto p = open_pair(s, s.owner(), s.peer(), f, owner_dir);
    bool owner_reads = std::string(owner_dir) == "r";
    actor& writer = owner_reads ? s.peer() : s.owner();
    actor& reader = owner_reads ? s.owner() : s.peer();
    std::string wend = owner_reads ? p.peer_end : p.owner_end;
    std::string rend = owner_reads ? p.owner_end : p.peer_end;
    std::string child = spawn(reader);
    reader.ok({{"op", "close"}, {"handle", rend}});
    json r = writer.reply({{"op", "write"}, {"handle", wend}, {"data", b64("lost")}});
    s.expect(!r.value("ok", true) && r.value("error", std::string()) == "broken_pipe",
             std::string("the ") + (owner_reads ? "owner" : "peer") +
                 " closed its read end while a child process of it was alive; the write gave " +
                 r.dump() + " instead of broken_pipe: the child holds the read end");
    reader.ok({{"op", "close"}, {"handle", child}});
    writer.ok({{"op", "close"}, {"handle", wend}});
    s.owner().ok({{"op", "close"}, {"handle", p.owner}});
  }
}

NPIPE_SCENARIO(chan_inherit, child_keeps_no_connection, "CHAN-EOF-4 CHAN-EOF-1", "channel",
               "server client",
               "A connection is not inherited: with a child of either side alive, the other side "
               "still gets EOF when it closes") {
  for (const char* closer : {"client", "server"}) {
    auto p =
        connect_pair(s, s.role("server"), s.role("client"), s.path(std::string("sock-") + closer));
    bool client_closes = std::string(closer) == "client";
    actor& gone = client_closes ? s.role("client") : s.role("server");
    actor& left = client_closes ? s.role("server") : s.role("client");
    std::string child = spawn(gone);
    gone.ok(
        {{"op", "send"}, {"handle", client_closes ? p.client : p.server}, {"data", b64("last")}});
    gone.ok({{"op", "close"}, {"handle", client_closes ? p.client : p.server}});
    std::string mine = client_closes ? p.server : p.client;
    s.expect(recv_data(s, left, mine) == "last", "the last message differs");
    std::string why = std::string("the ") + closer +
                      " closed its connection while a child process of it was alive; ";
    call recv = left.start({{"op", "recv"}, {"handle", mine}});
    json r = reply_or_fail(s, recv,
                           why +
                               "the other side never got EOF: the child holds the "
                               "connection (not close-on-exec)");
    s.expect(r.value("ok", false) && r.value("eof", false),
             why + "the other side got " + r.dump() + " instead of EOF");
    gone.ok({{"op", "close"}, {"handle", child}});
    left.ok({{"op", "close"}, {"handle", mine}});
    s.role("server").ok({{"op", "close"}, {"handle", p.listener}});
  }
}

NPIPE_SCENARIO(fifo_inherit, descriptors_close_on_exec, "FIFO-EOF-4", "fifo", "owner peer",
               needs::linux_proc("the flags of the agent's descriptors in /proc/PID/fdinfo"),
               "Every descriptor the implementation opens for an owner or an end is "
               "close-on-exec") {
  std::set<int> owner_before = fds_of(s, s.owner());
  std::set<int> peer_before = fds_of(s, s.peer());
  std::string f = s.path("f");
  std::string owner = create(s, s.owner(), f, "r");
  call open = s.owner().start({{"op", "open"}, {"owner", owner}, {"dir", "r"}});
  std::string w = handle_of(s, s.peer().ok({{"op", "open"}, {"name", f}, {"dir", "w"}}));
  std::string r = handle_of(s, open.ok());
  std::string bad = inheritable_since(s, s.owner(), owner_before);
  s.expect(bad.empty(), "the owner's descriptors without close-on-exec: " + bad);
  bad = inheritable_since(s, s.peer(), peer_before);
  s.expect(bad.empty(), "the peer's descriptors without close-on-exec: " + bad);
  (void)w;
  (void)r;
}

NPIPE_SCENARIO(chan_inherit, descriptors_close_on_exec, "CHAN-EOF-4", "channel", "server client",
               needs::linux_proc("the flags of the agent's descriptors in /proc/PID/fdinfo"),
               "Every descriptor the implementation opens for a listener or a connection is "
               "close-on-exec") {
  std::set<int> server_before = fds_of(s, s.role("server"));
  std::set<int> client_before = fds_of(s, s.role("client"));
  auto p = connect_pair(s, s.role("server"), s.role("client"), s.path("sock"));
  std::string bad = inheritable_since(s, s.role("server"), server_before);
  s.expect(bad.empty(), "the listener's side has descriptors without close-on-exec: " + bad);
  bad = inheritable_since(s, s.role("client"), client_before);
  s.expect(bad.empty(), "the client has descriptors without close-on-exec: " + bad);
  (void)p;
}

}  // namespace npipe::conformance
