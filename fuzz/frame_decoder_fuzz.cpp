// fuzz/frame_decoder_fuzz.cpp: the Channel profile's frame decoder on hostile bytes (CHAN-FRAME-1,
// -2, -4, CHAN-RECV-1, CHAN-EOF-1, -2).
//
// Input: byte 0 chooses the chunk sizes the header decoder is fed with and the maxlength of the
// socket reader; the rest is the byte stream a peer sent. Two checks against an independent
// reference parser written below from the spec text alone:
//  1. framing::header_decoder fed in pieces: never takes more than it needs, and decodes exactly
//     what the reference decodes (length, escape, bad length, "started").
//  2. posix::frame_reader reading the stream from a real socketpair until EOF: the same messages,
//     then the same ending (EOF on a boundary, protocol_error, message_too_long). A lying length
//     (up to 2^64-1) must allocate nothing near its claim: run libFuzzer with -malloc_limit_mb.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "common/framing.hpp"
#include "fuzz_check.hpp"
#include "npipe/error.hpp"
#include "posix/frame_reader.hpp"

namespace {

using npipe::framing::header_decoder;
using byte_vector = std::vector<std::uint8_t>;

// The reference: one header at `p`, from the spec's words (CHAN-FRAME-1, -2, -4).
struct ref_header {
  enum { incomplete, ok, bad } state = incomplete;
  std::size_t size = 0;  // header bytes
  std::uint64_t length = 0;
  std::int32_t bad_value = 0;
};

ref_header parse_ref(const std::uint8_t* p, std::size_t n) {
  ref_header h;
  if (n < 4) return h;
  std::uint32_t u = 0;
  for (int i = 0; i < 4; ++i)
    u = (u << 8) | p[i];
  std::int32_t v;
  std::memcpy(&v, &u, sizeof v);
  if (v >= 0) {
    h.state = ref_header::ok;
    h.size = 4;
    h.length = static_cast<std::uint64_t>(v);
  } else if (v == -1) {
    if (n < 12) return h;
    std::uint64_t l = 0;
    for (int i = 4; i < 12; ++i)
      l = (l << 8) | p[i];
    h.state = ref_header::ok;
    h.size = 12;
    h.length = l;
  } else {
    h.state = ref_header::bad;
    h.size = 4;
    h.bad_value = v;
  }
  return h;
}

void check_header_decoder(const std::uint8_t* data, std::size_t n, unsigned chunk_seed) {
  header_decoder d;
  FUZZ_CHECK(!d.started() && d.bytes_needed() == 4, "fresh decoder");
  std::size_t pos = 0;
  unsigned step = 0;
  while (pos < n && d.state() == header_decoder::status::need_more) {
    std::size_t chunk = 1 + ((chunk_seed >> (step++ % 8)) & 0x0f);
    chunk = std::min(chunk, n - pos);
    std::size_t took = d.feed(data + pos, chunk);
    // It may take the escape's 8-byte length in the same call as the word announcing it, but
    // never more than given and never past the header (checked against the reference below).
    FUZZ_CHECK(took <= chunk, "feed took more than it was given");
    FUZZ_CHECK(took > 0, "feed took nothing while needing more");
    pos += took;
    FUZZ_CHECK(pos <= npipe::framing::long_header_size, "feed went past any header");
  }
  const ref_header r = parse_ref(data, n);
  switch (r.state) {
    case ref_header::incomplete:
      FUZZ_CHECK(d.state() == header_decoder::status::need_more, "incomplete header decoded");
      FUZZ_CHECK(d.started() == (n > 0), "started() on an incomplete header");
      FUZZ_CHECK(pos == n, "incomplete header: bytes left unfed");
      break;
    case ref_header::ok: {
      FUZZ_CHECK(d.state() == header_decoder::status::complete, "valid header not complete");
      FUZZ_CHECK(pos == r.size, "decoder took a payload byte");
      FUZZ_CHECK(d.length() == r.length, "decoded length differs from the reference");
      // Round trip: encoding the length decodes to it again, canonically.
      auto h = npipe::framing::encode_header(r.length);
      FUZZ_CHECK(h.size == (r.length <= npipe::framing::max_short_length ? 4u : 12u),
                 "non-canonical header size");
      header_decoder again;
      FUZZ_CHECK(again.feed(h.bytes.data(), h.size) == h.size, "round trip feed");
      FUZZ_CHECK(again.state() == header_decoder::status::complete && again.length() == r.length,
                 "round trip length");
      break;
    }
    case ref_header::bad:
      FUZZ_CHECK(d.state() == header_decoder::status::error, "bad length accepted");
      FUZZ_CHECK(d.bad_length() == r.bad_value, "bad_length differs");
      FUZZ_CHECK(pos == 4, "bad header consumed more than its word");
      break;
  }
  // A finished decoder takes nothing more.
  if (d.state() != header_decoder::status::need_more) {
    std::uint8_t more[4] = {0, 0, 0, 1};
    FUZZ_CHECK(d.feed(more, sizeof more) == 0 && d.bytes_needed() == 0, "finished decoder fed");
  }
}

// What frame_reader must produce for the stream, by the reference.
struct expectation {
  std::vector<byte_vector> messages;
  enum { eof, protocol_error, too_long } ending = eof;
};

expectation expect(const std::uint8_t* p, std::size_t n, std::size_t maxlength) {
  expectation e;
  std::size_t pos = 0;
  for (;;) {
    if (pos == n) return e;  // EOF on a message boundary
    ref_header h = parse_ref(p + pos, n - pos);
    if (h.state == ref_header::incomplete) {
      e.ending = expectation::protocol_error;  // EOF inside the header
      return e;
    }
    if (h.state == ref_header::bad) {
      e.ending = expectation::protocol_error;
      return e;
    }
    if (h.length > maxlength) {
      e.ending = expectation::too_long;
      return e;
    }
    if (h.length > n - pos - h.size) {
      e.ending = expectation::protocol_error;  // EOF inside the payload
      return e;
    }
    const std::uint8_t* start = p + pos + h.size;
    e.messages.emplace_back(start, start + h.length);
    pos += h.size + static_cast<std::size_t>(h.length);
  }
}

void check_frame_reader(const std::uint8_t* data, std::size_t n, std::size_t maxlength) {
  // Everything must fit in the socket buffer, as nobody reads while we write.
  n = std::min<std::size_t>(n, 64 * 1024);
  int sv[2];
  FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
  int sndbuf = 256 * 1024;
  ::setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  std::size_t sent = 0;
  while (sent < n) {
    ssize_t w = ::send(sv[0], data + sent, n - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    FUZZ_CHECK(w > 0, "socketpair send (buffer too small?)");
    sent += static_cast<std::size_t>(w);
  }
  ::shutdown(sv[0], SHUT_WR);

  const expectation e = expect(data, n, maxlength);
  npipe::posix::frame_reader reader;
  std::size_t index = 0;
  for (;;) {
    std::optional<byte_vector> m;
    try {
      npipe::bytes got;
      const auto r = reader.read(sv[1], maxlength, npipe::deadline::immediate(), got);
      // Everything was sent and the write side shut down: never a wait.
      FUZZ_CHECK(r != npipe::posix::frame_reader::received::expired, "reader waited at EOF");
      if (r == npipe::posix::frame_reader::received::message)
        m = byte_vector(got.begin(), got.end());
    } catch (const npipe::error& err) {
      FUZZ_CHECK(index == e.messages.size(), "reader failed before the expected messages");
      if (err.value() == npipe::errc::message_too_long) {
        FUZZ_CHECK(e.ending == expectation::too_long, "unexpected message_too_long");
        FUZZ_CHECK(reader.stream_lost(), "message_too_long must lose the stream");
      } else {
        FUZZ_CHECK(err.value() == npipe::errc::protocol_error, "unexpected error kind");
        FUZZ_CHECK(e.ending == expectation::protocol_error, "unexpected protocol_error");
      }
      // A lost stream stays lost; an EOF inside a message reads as EOF-inside again or EOF.
      if (reader.stream_lost()) {
        bool threw = false;
        try {
          npipe::bytes again_out;
          reader.read(sv[1], maxlength, npipe::deadline::immediate(), again_out);
        } catch (const npipe::error& again) {
          threw = again.value() == npipe::errc::protocol_error;
        }
        FUZZ_CHECK(threw, "a lost stream was read again");
      }
      break;
    }
    if (!m) {
      FUZZ_CHECK(e.ending == expectation::eof, "EOF where the reference expects an error");
      FUZZ_CHECK(index == e.messages.size(), "EOF before all messages");
      break;
    }
    FUZZ_CHECK(index < e.messages.size(), "more messages than the reference");
    FUZZ_CHECK(*m == e.messages[index], "message differs from the reference");
    FUZZ_CHECK(m->size() <= maxlength, "a message longer than maxlength was returned");
    ++index;
  }
  ::close(sv[0]);
  ::close(sv[1]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned control = data[0];
  ++data;
  --size;
  check_header_decoder(data, size, control * 0x9e3779b9u);
  static constexpr std::size_t kMaxlengths[] = {0, 1, 16, 256, 65536, SIZE_MAX};
  check_frame_reader(data, size, kMaxlengths[control % 6]);
  return 0;
}
