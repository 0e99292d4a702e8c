// fifo_data.cpp: bytes through a FIFO: order, size, atomicity, blocking reads and writes
// (spec/npipe.md, "FIFO profile: data").
#include <algorithm>
#include <map>

#include "scenario.hpp"
#include "support.hpp"

namespace npipe::conformance {
namespace {

using namespace support;

// A large transfer from `writer` to `reader`, checked by digest: `size` bytes of pattern; with
// `deadline_ms`, the write is in the deadline form (non-blocking writes and waits inside).
void large_transfer(scene& s, const std::string& owner_dir, long deadline_ms = 0) {
  const std::size_t size = 8u << 20;
  s.allow_slow_steps(3);
  auto p = open_pair(s, s.owner(), s.peer(), s.path("f"), owner_dir);
  actor& writer = owner_dir == "w" ? s.owner() : s.peer();
  actor& reader = owner_dir == "w" ? s.peer() : s.owner();
  std::string wend = owner_dir == "w" ? p.owner_end : p.peer_end;
  std::string rend = owner_dir == "w" ? p.peer_end : p.owner_end;
  // The reader digests until EOF while the writer writes: both in flight at once.
  call digest = reader.start({{"op", "read"}, {"handle", rend}, {"digest", true}});
  json write = {{"op", "write"}, {"handle", wend}, {"pattern", pattern(size, 7)}};
  if (deadline_ms > 0) write["timeout_ms"] = deadline_ms;
  json w = writer.ok(write);
  s.expect(w.value("written", std::size_t{0}) == size, "the write reported " + w.dump());
  writer.ok({{"op", "close"}, {"handle", wend}});
  json r = digest.ok();
  s.expect(r.value("eof", false), "a digest read must end at EOF: " + r.dump());
  s.expect(r.value("size", std::size_t{0}) == size,
           "the reader got " + std::to_string(r.value("size", std::size_t{0})) + " bytes of " +
               std::to_string(size));
  s.expect(r.value("sha256", std::string()) == pattern_sha256(size, 7),
           "the bytes arrived changed or out of order (SHA-256 differs)");
}

}  // namespace

NPIPE_SCENARIO(fifo_data, large_transfer_owner_writes, "FIFO-IO-1", "fifo", "owner peer",
               "8 MiB from the owner to the peer arrive in order and unchanged") {
  large_transfer(s, "w");
}

NPIPE_SCENARIO(fifo_data, large_transfer_peer_writes, "FIFO-IO-1", "fifo", "owner peer",
               "8 MiB from the peer to the owner arrive in order and unchanged") {
  large_transfer(s, "r");
}

NPIPE_SCENARIO(fifo_data, large_transfer_with_deadline, "FIFO-IO-1 FIFO-IO-6", "fifo", "owner peer",
               "8 MiB written with a deadline (long enough) to a reader that keeps reading arrive "
               "in order and unchanged") {
  // Deadline writes go out in pieces as room appears; each piece must continue where the last
  // stopped. The deadline is most of the step, so only a write that stalls misses it.
  large_transfer(s, "w", s.options().step_timeout.count() * 3 * 4 / 5);
}

NPIPE_SCENARIO(fifo_data, small_writes_exact_bytes, "FIFO-IO-1", "fifo", "owner peer",
               "Every byte value, and many small writes, arrive exactly") {
  auto p = open_pair(s, s.owner(), s.peer(), s.path("f"), "r");
  std::string all;
  for (int i = 0; i < 256; ++i)
    all += static_cast<char>(i);
  s.peer().ok({{"op", "write"}, {"handle", p.peer_end}, {"data", b64(all)}});
  s.peer().ok({{"op", "write"}, {"handle", p.peer_end}, {"data", b64("ab")}, {"repeat", 50}});
  std::string want = all;
  for (int i = 0; i < 50; ++i)
    want += "ab";
  s.peer().ok({{"op", "close"}, {"handle", p.peer_end}});
  s.expect(read_to_eof(s, s.owner(), p.owner_end) == want,
           "the bytes read differ from those written");
}

NPIPE_SCENARIO(fifo_data, pipe_buf_writes_are_atomic, "FIFO-IO-2", "fifo", "owner peer",
               "Writes of PIPE_BUF bytes from four writers at once never interleave") {
  const int writers = 4;
  const int repeat = 48;
  std::string f = s.path("f");
  std::string owner = create(s, s.owner(), f, "r");
  call open = s.owner().start({{"op", "open"}, {"owner", owner}, {"dir", "r"}});
  std::vector<std::string> ends;
  for (int i = 0; i < writers; ++i)
    ends.push_back(handle_of(s, s.peer(i).ok({{"op", "open"}, {"name", f}, {"dir", "w"}})));
  std::string rend = handle_of(s, open.ok());
  std::size_t block = pipe_buf_for(s.peer().platform());
  // 100 bytes first, so that the blocks do not line up with the pipe's own pages (4096 bytes on
  // Linux): a writer that splits its block then stops half way through one when the FIFO fills,
  // and the next writer to find room goes in between. Aligned, each page freed by the reader
  // took exactly one whole block, and a split write still went out whole.
  const std::string lead = pattern_bytes(100, 99);
  s.peer(0).ok({{"op", "write"}, {"handle", ends[0]}, {"data", b64(lead)}});
  // Every writer writes its own block `repeat` times, all at once: with 64 KiB of pipe the
  // writers sleep and wake together, which is when a non-atomic write would be split.
  std::vector<call> writes;
  for (int i = 0; i < writers; ++i)
    writes.push_back(s.peer(i).start({{"op", "write"},
                                      {"handle", ends[static_cast<std::size_t>(i)]},
                                      {"pattern", pattern(block, 10u + static_cast<unsigned>(i))},
                                      {"repeat", repeat}}));
  // Reads of one block at a time: room comes back a block at a time, so writers blocked on the
  // full FIFO wake together many times over, each time a non-atomic write would be split.
  std::string got;
  while (got.size() < lead.size() + block * writers * repeat) {
    json r = s.owner().ok({{"op", "read"}, {"handle", rend}, {"max", block}});
    if (r.value("eof", false)) s.fail("EOF after " + std::to_string(got.size()) + " bytes");
    got += data_of(s, r);
  }
  for (auto& w : writes)
    w.ok();
  std::map<std::string, int> blocks;
  for (int i = 0; i < writers; ++i)
    blocks[pattern_bytes(block, 10u + static_cast<unsigned>(i))] = i;
  s.expect(got.compare(0, lead.size(), lead) == 0, "the first 100 bytes written came out changed");
  std::vector<int> seen(writers, 0);
  for (std::size_t off = lead.size(); off < got.size(); off += block) {
    auto it = blocks.find(got.substr(off, block));
    if (it == blocks.end())
      s.fail("bytes " + std::to_string(off - lead.size()) + ".." +
             std::to_string(off - lead.size() + block) + " (after the first 100)" +
             " mix several writers' data: a write of " + std::to_string(block) +
             " bytes was interleaved");
    ++seen[static_cast<std::size_t>(it->second)];
  }
  for (int i = 0; i < writers; ++i)
    s.expect(seen[static_cast<std::size_t>(i)] == repeat,
             "writer " + std::to_string(i) + " delivered " +
                 std::to_string(seen[static_cast<std::size_t>(i)]) + " blocks of " +
                 std::to_string(repeat));
}

NPIPE_SCENARIO(fifo_data, read_empty_blocks, "FIFO-IO-3", "fifo", "owner peer",
               "A read on an empty FIFO whose writer is open blocks until data comes") {
  auto p = open_pair(s, s.owner(), s.peer(), s.path("f"), "r");
  call read = s.owner().start({{"op", "read"}, {"handle", p.owner_end}, {"max", 100}});
  s.expect_pending(read, "a read on an empty FIFO with a writer");
  s.peer().ok({{"op", "write"}, {"handle", p.peer_end}, {"data", b64("late")}});
  // A read may return part of what was written (FIFO-IO-1): the rest comes with the next reads.
  std::string got = data_of(s, read.ok());
  s.expect(!got.empty() && std::string("late").rfind(got, 0) == 0,
           "the pending read did not return the bytes written: " + got);
  got += read_exactly(s, s.owner(), p.owner_end, 4 - got.size());
  s.expect(got == "late", "the bytes read differ from those written: " + got);
}

NPIPE_SCENARIO(fifo_data, read_empty_deadline_and_nonblocking, "FIFO-IO-3", "fifo", "owner peer",
               "A read on an empty FIFO with a writer: timeout with a deadline, would_block "
               "without waiting") {
  auto p = open_pair(s, s.owner(), s.peer(), s.path("f"), "w");
  s.peer().fails({{"op", "read"}, {"handle", p.peer_end}, {"timeout_ms", 0}}, "would_block");
  s.peer().fails({{"op", "read"}, {"handle", p.peer_end}, {"timeout_ms", 200}}, "timeout");
  s.owner().ok({{"op", "write"}, {"handle", p.owner_end}, {"data", b64("x")}});
  s.expect(data_of(s, s.peer().ok(
                          {{"op", "read"}, {"handle", p.peer_end}, {"timeout_ms", 2000}})) == "x",
           "a read with a deadline did not return the byte written");
}

NPIPE_SCENARIO(fifo_data, write_full_blocks, "FIFO-IO-4", "fifo", "owner peer",
               "A write larger than the FIFO's buffer blocks until the reader makes room") {
  const std::size_t size = 4u << 20;  // above any default pipe buffer (64 KiB Linux, 1 MiB max)
  s.allow_slow_steps(3);
  auto p = open_pair(s, s.owner(), s.peer(), s.path("f"), "w");
  call write =
      s.owner().start({{"op", "write"}, {"handle", p.owner_end}, {"pattern", pattern(size, 3)}});
  s.expect_pending(write, "a write of 4 MiB with nobody reading");
  call digest = s.peer().start({{"op", "read"}, {"handle", p.peer_end}, {"digest", true}});
  json w = write.ok();
  s.expect(w.value("written", std::size_t{0}) == size, "written is " + w.dump());
  s.owner().ok({{"op", "close"}, {"handle", p.owner_end}});
  json r = digest.ok();
  s.expect(r.value("sha256", std::string()) == pattern_sha256(size, 3),
           "the bytes after the blocked write differ (size " +
               std::to_string(r.value("size", std::size_t{0})) + ")");
}

}  // namespace npipe::conformance

namespace npipe::conformance {

NPIPE_SCENARIO(fifo_data, zero_byte_write_is_nothing, "FIFO-IO-8", "fifo", "owner peer",
               "A write of zero bytes returns 0 and the reader never sees it, not even as EOF") {
  using namespace support;
  auto p = open_pair(s, s.owner(), s.peer(), s.path("f"), "r");
  call read = s.owner().start({{"op", "read"}, {"handle", p.owner_end}});
  json z = s.peer().ok({{"op", "write"}, {"handle", p.peer_end}, {"data", ""}});
  s.expect(z.value("written", -1) == 0, "a zero-byte write reported " + z.dump());
  s.expect_pending(read, "a read after a zero-byte write");
  s.peer().ok({{"op", "write"}, {"handle", p.peer_end}, {"data", b64("x")}});
  json r = read.ok();
  s.expect(!r.value("eof", false) && data_of(s, r) == "x",
           "the reader saw the zero-byte write: " + r.dump());
}

}  // namespace npipe::conformance

namespace npipe::conformance {

NPIPE_SCENARIO(fifo_data, nonblocking_small_writes_all_or_nothing, "FIFO-IO-5", "fifo",
               "owner peer",
               "Non-blocking writes of PIPE_BUF bytes write all of it or fail "
               "would_block, never part") {
  using namespace support;
  auto p = open_pair(s, s.owner(), s.peer(), s.path("f"), "w");
  std::size_t block = pipe_buf_for(s.owner().platform());
  // 100 bytes first, so that the room left at the end is not a multiple of the block: the block
  // that does not fit whole must be refused whole (O-2: 100 bytes free, a 4096-byte write fails).
  s.owner().ok({{"op", "write"}, {"handle", p.owner_end}, {"pattern", pattern(100, 3)}});
  // Fill the FIFO block by block until it refuses; every accepted block is whole.
  for (int i = 0;; ++i) {
    if (i > 4096) s.fail("the FIFO accepted 4096 non-blocking blocks without ever being full");
    json r = s.owner().reply({{"op", "write"},
                              {"handle", p.owner_end},
                              {"pattern", pattern(block, 1)},
                              {"timeout_ms", 0}});
    if (!r["ok"].get<bool>()) {
      std::string e = r.value("error", std::string());
      if (e == "unsupported") throw not_applicable("non-blocking write unsupported");
      s.expect(e == "would_block", "a non-blocking write into a full FIFO failed with " + e);
      break;
    }
    s.expect(r.value("written", std::size_t{0}) == block,
             "a non-blocking write of " + std::to_string(block) + " bytes wrote " +
                 r.value("written", json()).dump() + ": part of an atomic write");
  }
}

NPIPE_SCENARIO(fifo_data, write_deadline_reports_count, "FIFO-IO-6", "fifo", "owner peer",
               "A write whose deadline passes after some bytes returns that count; with none "
               "written it fails timeout (would_block when immediate)") {
  using namespace support;
  const std::size_t size = 4u << 20;
  auto p = open_pair(s, s.owner(), s.peer(), s.path("f"), "w");
  json r = s.owner().ok({{"op", "write"},
                         {"handle", p.owner_end},
                         {"pattern", pattern(size, 2)},
                         {"timeout_ms", 300}});
  std::size_t written = r.value("written", std::size_t{0});
  s.expect(written > 0 && written < size,
           "a 4 MiB write with a 300 ms deadline and no reader reported " + r.dump());
  // Now full: nothing more fits, so the deadline and immediate forms write nothing at all.
  s.owner().fails(
      {{"op", "write"}, {"handle", p.owner_end}, {"data", b64("x")}, {"timeout_ms", 200}},
      "timeout");
  s.owner().fails({{"op", "write"}, {"handle", p.owner_end}, {"data", b64("x")}, {"timeout_ms", 0}},
                  "would_block");
  // What was reported written is exactly what the reader gets.
  s.owner().ok({{"op", "close"}, {"handle", p.owner_end}});
  json d = s.peer().ok({{"op", "read"}, {"handle", p.peer_end}, {"digest", true}});
  s.expect(d.value("size", std::size_t{0}) == written,
           "the writer reported " + std::to_string(written) + " bytes, the reader got " +
               d.value("size", json()).dump());
  // And they are the first `written` bytes of the payload, in order (FIFO-IO-1).
  s.expect(d.value("sha256", std::string()) == pattern_sha256(written, 2),
           "the " + std::to_string(written) +
               " bytes the reader got are not the start of what was written (SHA-256 differs)",
           {"FIFO-IO-1"});
}

NPIPE_SCENARIO(fifo_data, several_readers_share_bytes, "FIFO-MULTI-2", "fifo", "owner peer",
               "With two readers, each byte written is read by exactly one of them") {
  using namespace support;
  std::string f = s.path("f");
  std::string owner = create(s, s.owner(), f, "w");
  call open = s.owner().start({{"op", "open"}, {"owner", owner}, {"dir", "w"}});
  std::string r1 = handle_of(s, s.peer(0).ok({{"op", "open"}, {"name", f}, {"dir", "r"}}));
  std::string w = handle_of(s, open.ok());
  std::string r2 = handle_of(s, s.peer(1).ok({{"op", "open"}, {"name", f}, {"dir", "r"}}));
  const std::string data = pattern_bytes(40000, 9);
  s.owner().ok({{"op", "write"}, {"handle", w}, {"data", b64(data)}});
  s.owner().ok({{"op", "close"}, {"handle", w}});
  // The readers take turns in small reads until both see EOF.
  std::string got;
  bool eof1 = false, eof2 = false;
  while (!eof1 || !eof2) {
    for (int k = 0; k < 2; ++k) {
      bool& eof = k ? eof2 : eof1;
      if (eof) continue;
      json r = s.peer(k).ok({{"op", "read"}, {"handle", k ? r2 : r1}, {"max", 1000}});
      if (r.value("eof", false))
        eof = true;
      else
        got += data_of(s, r);
      if (got.size() > data.size()) s.fail("the readers got more bytes than were written");
    }
  }
  std::string a = got, b = data;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  s.expect(got.size() == data.size() && a == b,
           "the two readers together got " + std::to_string(got.size()) + " bytes of " +
               std::to_string(data.size()) + ", or not the same bytes");
}

}  // namespace npipe::conformance
