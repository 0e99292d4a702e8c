// Reading one framed message at a time, with resumption after a deadline.
#include "posix/frame_reader.hpp"

#include <algorithm>
#include <cstdint>
#include <new>
#include <string>

#include "npipe/error.hpp"
#include "posix/socket_io.hpp"
#include "posix/wait.hpp"

namespace npipe::posix {
namespace {

// The first allocation for a payload of unknown trust. A message up to 1 MiB is received into one
// allocation of exactly its length.
constexpr std::size_t kInitialPayloadChunk = 1024 * 1024;
// How much each growth multiplies the buffer by (capped at the announced length): a peer that
// claims a huge length makes us allocate at most this many times what it really sent, plus 1 MiB
// (address space: pages are touched only as bytes arrive). 4 rather than 2: each step costs a copy
// of what arrived and, the first time, fresh pages for the new buffer; a 64 MiB message takes
// 1, 4, 16, 64 MiB (21 MiB copied) instead of 1, 2, ..., 64 MiB (63 MiB copied, and 127 MiB of
// fresh pages the first time): `make bench`, recv_bytes() against the C loop with a new buffer.
constexpr std::size_t kGrowthFactor = 4;

}  // namespace

void frame_reader::reset() noexcept {
  header_.reset();
  payload_ = {};
  filled_ = 0;
}

void frame_reader::check_not_lost() const {
  if (lost_) {
    throw npipe::error(errc::protocol_error,
                       "the message stream was lost after an earlier framing error");
  }
}

frame_reader::step frame_reader::read_header(int fd, std::size_t maxlength, deadline d) {
  // Exactly the bytes the header still needs: never a byte of the payload or the next message.
  while (header_.state() == framing::header_decoder::status::need_more) {
    std::uint8_t buf[framing::long_header_size];
    const std::size_t got = recv_some(fd, buf, header_.bytes_needed(), d);
    if (got == kNotReady) return step::expired;
    if (got == 0) {
      if (!header_.started()) return step::eof;  // EOF between messages (CHAN-EOF-1)
      reset();
      throw npipe::error(errc::protocol_error,
                         "got end of file during message (inside the length header)");
    }
    header_.feed(buf, got);
  }
  if (header_.state() == framing::header_decoder::status::error) {
    const std::int32_t bad = header_.bad_length();
    reset();
    lost_ = true;
    throw npipe::error(errc::protocol_error,
                       "bad message header: negative length " + std::to_string(bad) +
                           " (only -1, the escape for an 8-byte length, is allowed)");
  }
  if (header_.length() > maxlength) {
    const std::uint64_t length = header_.length();
    reset();
    lost_ = true;  // the payload is left unread in the socket: nothing after it can be parsed
    throw npipe::error(errc::message_too_long,
                       "bad message length: the message is " + std::to_string(length) +
                           " bytes, longer than maxlength " + std::to_string(maxlength) +
                           "; it was not read, and the connection is now write-only");
  }
  return step::done;
}

frame_reader::step frame_reader::receive_payload(int fd, std::uint8_t* dst, std::size_t end,
                                                 deadline d) {
  while (filled_ < end) {
    const std::size_t got = recv_some(fd, dst + filled_, end - filled_, d);
    if (got == kNotReady) return step::expired;
    if (got == 0) {
      const std::string detail = std::to_string(filled_) + " of " +
                                 std::to_string(header_.length()) + " payload bytes arrived";
      reset();
      throw npipe::error(errc::protocol_error, "got end of file during message (" + detail + ")");
    }
    filled_ += got;
  }
  return step::done;
}

void frame_reader::reserve_payload(std::size_t maxlength) {
  const auto length = static_cast<std::size_t>(header_.length());  // at most maxlength
  if (payload_.capacity() >= length) return;
  // A caller who set maxlength accepted messages that long: reserve the whole length now (address
  // space; its pages are touched only as bytes arrive), so the message is never copied to grow.
  // If the system will not reserve it, fall back to growing as without a maxlength.
  if (maxlength != SIZE_MAX) {
    try {
      payload_.reserve(length);
      return;
    } catch (const std::bad_alloc&) {
    }
  }
  // No maxlength: grow geometrically, and only once the bytes already allocated have arrived, so
  // a length that lies costs nothing near its claim.
  const std::size_t want = std::max(kInitialPayloadChunk, kGrowthFactor * payload_.capacity());
  payload_.reserve(std::min(want, length));
}

frame_reader::step frame_reader::read_payload(int fd, std::size_t maxlength, deadline d) {
  const auto length = static_cast<std::size_t>(header_.length());
  while (filled_ < length) {
    if (filled_ == payload_.size()) {
      if (payload_.size() == payload_.capacity()) reserve_payload(maxlength);
      // Costs nothing: bytes' allocator does not zero what resize() adds.
      payload_.resize(std::min(payload_.capacity(), length));
    }
    const step s = receive_payload(fd, payload_.data(), payload_.size(), d);
    if (s != step::done) return s;
  }
  return step::done;
}

frame_reader::received frame_reader::read(int fd, std::size_t maxlength, deadline d, bytes& out) {
  check_not_lost();
  switch (read_header(fd, maxlength, d)) {
    case step::eof:
      return received::eof;
    case step::expired:
      return received::expired;
    case step::done:
      break;
  }
  if (read_payload(fd, maxlength, d) == step::expired) return received::expired;
  payload_.resize(filled_);
  out = std::move(payload_);
  reset();
  return received::message;
}

frame_reader::received frame_reader::read_into(int fd, std::uint8_t* buf, std::size_t capacity,
                                               deadline d, std::size_t& length) {
  check_not_lost();
  switch (read_header(fd, capacity, d)) {
    case step::eof:
      return received::eof;
    case step::expired:
      return received::expired;
    case step::done:
      break;
  }
  length = static_cast<std::size_t>(header_.length());  // at most capacity
  // A message an earlier call began (its deadline passed halfway) goes on from where it stopped.
  std::copy_n(payload_.data(), filled_, buf);
  const step s = receive_payload(fd, buf, length, d);  // throws: what arrived is lost with it
  if (s == step::expired) {
    // Keep what arrived for the next call, which may bring another buffer (CHAN-RECV-3).
    payload_.assign(buf, buf + filled_);
    return received::expired;
  }
  reset();
  return received::message;
}

}  // namespace npipe::posix
