// npipe-agent/ops_fifo.cpp: the FIFO profile's ops (section 5.2): create, open, read, write,
// remove, release, and close for every kind of handle.
#include <algorithm>
#include <limits>
#include <vector>

#include "npipe/error.hpp"
#include "protocol/codec.hpp"
#include "session.hpp"

namespace npipe::agent {
namespace {

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
// The one buffer a read or a pattern write goes through, however large the transfer: a digest of
// a 1 GiB stream never holds more than this (section 3, "Patterns").
constexpr std::size_t kChunk = 1 << 20;
constexpr std::size_t kDigestBuffer = 64 * 1024;

npipe::fifo_end& end_for(session& s, const request& r, npipe::direction want) {
  npipe::fifo_end& end = s.get<npipe::fifo_end>(r);
  if (end.dir() != want) {
    bad_field("handle", r.string_field("handle") + " is the " +
                            (want == npipe::direction::read ? "write" : "read") + " end");
  }
  return end;
}

// read with digest: everything until EOF through one fixed buffer.
void read_digest(npipe::fifo_end& end, npipe::deadline d, nlohmann::json& reply) {
  std::vector<std::uint8_t> buf(kDigestBuffer);
  npipe::protocol::sha256 hash;
  std::uint64_t size = 0;
  for (;;) {
    std::size_t n = end.read(buf.data(), buf.size(), d);
    if (n == 0) break;
    hash.update(buf.data(), n);
    size += n;
  }
  reply["size"] = size;
  reply["sha256"] = hash.hex_digest();
  reply["eof"] = true;
}

}  // namespace

void op_create(session& s, const request& r, nlohmann::json& reply) {
  std::string name = r.string_field("name");
  npipe::direction dir = r.dir();
  npipe::fifo_options opts;
  // Without "mode" the library's own default applies (FIFO-CREATE-1 checks the library, not us).
  if (auto mode = r.optional_int("mode", 0, 07777)) opts.mode = static_cast<unsigned>(*mode);
  opts.adopt_existing = r.optional_bool("adopt", false);
  reply["handle"] = s.add(npipe::fifo_owner::create(name, dir, opts));
}

void op_open(session& s, const request& r, nlohmann::json& reply) {
  npipe::direction dir = r.dir();
  bool by_name = r.has("name");
  bool by_owner = r.has("owner");
  if (by_name == by_owner) bad_field("name", "give exactly one of name and owner");
  if (by_name) {
    std::string name = r.string_field("name");
    reply["handle"] = s.add(npipe::open_fifo(name, dir, r.deadline()));
    return;
  }
  npipe::fifo_owner& owner = s.get<npipe::fifo_owner>(r, "owner");
  if (owner.dir() != dir) {
    bad_field("dir", "the owner " + r.string_field("owner") + " was created for the other end");
  }
  reply["handle"] = s.add(owner.open(r.deadline()));
}

void op_read(session& s, const request& r, nlohmann::json& reply) {
  npipe::fifo_end& end = end_for(s, r, npipe::direction::read);
  auto max = static_cast<std::uint64_t>(r.optional_int("max", 1, kInt64Max).value_or(65536));
  bool digest = r.optional_bool("digest", false);
  npipe::deadline d = r.deadline();
  if (digest) {
    read_digest(end, d, reply);
    return;
  }
  // A read may return fewer bytes than max, so a huge max need not be allocated.
  std::string buf(static_cast<std::size_t>(std::min<std::uint64_t>(max, kChunk)), '\0');
  std::size_t n = end.read(&buf[0], buf.size(), d);
  if (n == 0) {
    reply["eof"] = true;
    return;
  }
  buf.resize(n);
  reply["data"] = npipe::protocol::base64_encode(buf);
}

void op_write(session& s, const request& r, nlohmann::json& reply) {
  npipe::fifo_end& end = end_for(s, r, npipe::direction::write);
  payload p = r.data_or_pattern();
  auto repeat = static_cast<std::uint64_t>(r.optional_int("repeat", 0, kInt64Max).value_or(1));
  npipe::deadline d = r.deadline();
  std::uint64_t written = 0;
  reply["written"] = written;  // kept in an error reply too: how far it got

  // A payload up to kChunk goes as one write call per repetition; a larger pattern in pieces.
  std::vector<std::uint8_t> buf(static_cast<std::size_t>(std::min<std::uint64_t>(p.size, kChunk)));
  bool whole = p.size <= kChunk;
  if (whole) p.fill(buf.data(), buf.size(), 0);
  // An empty write goes to the library too: what it does with one is FIFO-IO-8's question.
  if (p.size == 0) {
    end.write(buf.data(), 0, d);
    return;
  }
  for (std::uint64_t rep = 0; rep < repeat; ++rep) {
    for (std::uint64_t off = 0; off < p.size;) {
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(p.size - off, kChunk));
      if (!whole) p.fill(buf.data(), n, off);
      std::size_t put = end.write(buf.data(), n, d);
      written += put;
      reply["written"] = written;
      // A short write means the deadline passed after some bytes went: report how many.
      if (put < n) return;
      off += n;
    }
  }
}

void op_remove(session& s, const request& r, nlohmann::json&) {
  s.get<npipe::fifo_owner>(r).remove();
}

void op_release(session& s, const request& r, nlohmann::json&) {
  s.get<npipe::fifo_owner>(r).release();
}

void op_close(session& s, const request& r, nlohmann::json&) {
  // The handle is gone whatever happens next; an owner's removal can still fail and say so.
  object obj = s.take(r);
  if (auto* owner = std::get_if<npipe::fifo_owner>(&obj)) owner->remove();
  if (auto* end = std::get_if<npipe::fifo_end>(&obj)) end->close();
  if (auto* l = std::get_if<npipe::listener>(&obj)) l->close();
  if (auto* c = std::get_if<npipe::connection>(&obj)) c->close();
  if (auto* p = std::get_if<npipe::tools::idle_child>(&obj)) p->stop();
}

}  // namespace npipe::agent
