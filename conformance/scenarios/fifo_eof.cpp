// fifo_eof.cpp: end of file and broken pipe (spec/npipe.md, "FIFO profile: EOF and broken pipe").
#include "scenario.hpp"
#include "support.hpp"

namespace npipe::conformance {

using namespace support;

NPIPE_SCENARIO(fifo_eof, data_then_eof, "FIFO-EOF-1 FIFO-OPEN-10", "fifo", "owner peer",
               "After the writer closes, the reader gets every byte written, then EOF") {
  auto p = open_pair(s, s.owner(), s.peer(), s.path("f"), "r");
  s.peer().ok({{"op", "write"}, {"handle", p.peer_end}, {"data", b64("hello, world")}});
  s.peer().ok({{"op", "close"}, {"handle", p.peer_end}});
  s.expect(read_to_eof(s, s.owner(), p.owner_end) == "hello, world",
           "the bytes before EOF differ from those written");
  // EOF stays EOF while no writer comes.
  json again = s.owner().ok({{"op", "read"}, {"handle", p.owner_end}});
  s.expect(again.value("eof", false), "a second read after EOF gave " + again.dump());
}

NPIPE_SCENARIO(fifo_eof, eof_wakes_blocked_reader, "FIFO-EOF-1", "fifo", "owner peer",
               "A reader blocked on an empty FIFO wakes with EOF when the writer closes") {
  auto p = open_pair(s, s.owner(), s.peer(), s.path("f"), "w");
  call read = s.peer().start({{"op", "read"}, {"handle", p.peer_end}});
  s.expect_pending(read, "a read with the writer still open");
  s.owner().ok({{"op", "close"}, {"handle", p.owner_end}});
  json r = read.ok();
  s.expect(r.value("eof", false), "the blocked read woke with " + r.dump() + " instead of EOF");
}

NPIPE_SCENARIO(fifo_eof, eof_after_last_writer, "FIFO-EOF-2", "fifo", "owner peer",
               "With two writers, EOF comes only after the second one closes") {
  std::string f = s.path("f");
  std::string owner = create(s, s.owner(), f, "r");
  call open = s.owner().start({{"op", "open"}, {"owner", owner}, {"dir", "r"}});
  std::string w1 = handle_of(s, s.peer(0).ok({{"op", "open"}, {"name", f}, {"dir", "w"}}));
  std::string r = handle_of(s, open.ok());
  std::string w2 = handle_of(s, s.peer(1).ok({{"op", "open"}, {"name", f}, {"dir", "w"}}));
  s.peer(0).ok({{"op", "write"}, {"handle", w1}, {"data", b64("one")}});
  s.peer(0).ok({{"op", "close"}, {"handle", w1}});
  s.expect(read_exactly(s, s.owner(), r, 3) == "one", "the first writer's bytes differ");
  call read = s.owner().start({{"op", "read"}, {"handle", r}});
  s.expect_pending(read, "a read while the second writer is still open");
  s.peer(1).ok({{"op", "write"}, {"handle", w2}, {"data", b64("two")}});
  // A read may return part of a write (FIFO-IO-1): the rest comes with the next reads.
  std::string two = data_of(s, read.ok());
  if (two.size() < 3) two += read_exactly(s, s.owner(), r, 3 - two.size());
  s.expect(two == "two", "the second writer's bytes differ");
  s.peer(1).ok({{"op", "close"}, {"handle", w2}});
  json last = s.owner().ok({{"op", "read"}, {"handle", r}});
  s.expect(last.value("eof", false), "after both writers closed the read gave " + last.dump());
}

NPIPE_SCENARIO(fifo_eof, new_writer_after_eof, "FIFO-EOF-3", "fifo", "owner peer",
               needs::posix("a new writer after EOF (FIFO-EOF-3 (a); on Windows the instance is "
                            "finished, (b))"),
               "After EOF a new writer may open: on POSIX the same reader sees its bytes") {
  std::string f = s.path("f");
  auto p = open_pair(s, s.owner(), s.peer(), f, "r");
  s.peer().ok({{"op", "write"}, {"handle", p.peer_end}, {"data", b64("first")}});
  s.peer().ok({{"op", "close"}, {"handle", p.peer_end}});
  s.expect(read_to_eof(s, s.owner(), p.owner_end) == "first", "the first writer's bytes differ");
  std::string w = handle_of(s, s.peer().ok({{"op", "open"}, {"name", f}, {"dir", "w"}}));
  s.peer().ok({{"op", "write"}, {"handle", w}, {"data", b64("second")}});
  s.peer().ok({{"op", "close"}, {"handle", w}});
  s.expect(read_to_eof(s, s.owner(), p.owner_end) == "second",
           "a new writer's bytes did not reach the reader that had seen EOF (EOF is not sticky "
           "on POSIX)");
  s.note("PLATFORM-DEFINED FIFO-EOF-3: outcome (a) seen: the same read end read a new writer");
}

NPIPE_SCENARIO(fifo_eof, write_without_reader_broken_pipe, "FIFO-PIPE-1 FIFO-OPEN-10", "fifo",
               "owner peer",
               "Writing after the reader closed fails with broken_pipe, and the writer lives on") {
  auto p = open_pair(s, s.owner(), s.peer(), s.path("f"), "w");
  s.peer().ok({{"op", "close"}, {"handle", p.peer_end}});
  s.owner().fails({{"op", "write"}, {"handle", p.owner_end}, {"data", b64("lost")}}, "broken_pipe");
  // Alive and still speaking the protocol: a second write fails the same way.
  s.owner().fails({{"op", "write"}, {"handle", p.owner_end}, {"data", b64("lost")}}, "broken_pipe");
}

NPIPE_SCENARIO(fifo_eof, peer_write_without_reader_broken_pipe, "FIFO-PIPE-1", "fifo", "owner peer",
               "The peer writing after the owner's reader closed gets broken_pipe") {
  auto p = open_pair(s, s.owner(), s.peer(), s.path("f"), "r");
  s.owner().ok({{"op", "close"}, {"handle", p.owner_end}});
  s.peer().fails({{"op", "write"}, {"handle", p.peer_end}, {"data", b64("lost")}}, "broken_pipe");
  s.peer().fails({{"op", "write"}, {"handle", p.peer_end}, {"pattern", pattern(100000, 1)}},
                 "broken_pipe");
}

NPIPE_SCENARIO(fifo_eof, blocked_writer_broken_pipe, "FIFO-PIPE-1 FIFO-IO-4", "fifo", "owner peer",
               "A writer blocked on a full FIFO fails with broken_pipe when the "
               "reader closes") {
  auto p = open_pair(s, s.owner(), s.peer(), s.path("f"), "r");
  call write =
      s.peer().start({{"op", "write"}, {"handle", p.peer_end}, {"pattern", pattern(4u << 20, 5)}});
  s.expect_pending(write, "a 4 MiB write with nobody reading");
  s.owner().ok({{"op", "close"}, {"handle", p.owner_end}});
  write.fails("broken_pipe");
}

}  // namespace npipe::conformance

namespace npipe::conformance {

NPIPE_SCENARIO(
    fifo_eof, last_writer_wakes_every_reader, "FIFO-MULTI-3", "fifo", "owner peer",
    "When the last writer closes, every reader blocked on the empty FIFO wakes with EOF") {
  using namespace support;
  std::string f = s.path("f");
  std::string owner = create(s, s.owner(), f, "r");
  call open = s.owner().start({{"op", "open"}, {"owner", owner}, {"dir", "r"}});
  std::string w = handle_of(s, s.peer(1).ok({{"op", "open"}, {"name", f}, {"dir", "w"}}));
  std::string r1 = handle_of(s, open.ok());
  std::string r2 = handle_of(s, s.peer(0).ok({{"op", "open"}, {"name", f}, {"dir", "r"}}));
  call read1 = s.owner().start({{"op", "read"}, {"handle", r1}});
  call read2 = s.peer(0).start({{"op", "read"}, {"handle", r2}});
  s.expect_pending(read1, "the owner's read on the empty FIFO");
  s.expect_pending(read2, "the second reader's read on the empty FIFO");
  s.peer(1).ok({{"op", "close"}, {"handle", w}});
  json e1 = read1.ok();
  json e2 = read2.ok();
  s.expect(e1.value("eof", false) && e2.value("eof", false),
           "not every reader woke with EOF: " + e1.dump() + " / " + e2.dump());
}

}  // namespace npipe::conformance
