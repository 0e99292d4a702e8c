// Reading one framed message at a time, with resumption after a deadline.
#include "posix/frame_reader.hpp"

#include <algorithm>
#include <cstdint>
#include <new>
#include <string>

#include "npipe/error.hpp"
#include "posix/socket_io.hpp"

namespace npipe::posix {
namespace {

// The first allocation for a payload of unknown trust, and the step it grows by at least. A peer
// that claims a huge length makes us allocate at most about twice what it really sent, plus this.
// 1 MiB: a message up to that size is received into one allocation of exactly its length.
constexpr std::size_t kInitialPayloadChunk = 1024 * 1024;

}  // namespace

void frame_reader::reset() noexcept {
  header_.reset();
  payload_ = {};
  filled_ = 0;
}

bool frame_reader::read_header(int fd, std::size_t maxlength, deadline d) {
  // Exactly the bytes the header still needs: never a byte of the payload or the next message.
  while (header_.state() == framing::header_decoder::status::need_more) {
    std::uint8_t buf[framing::long_header_size];
    std::size_t got = recv_some(fd, buf, header_.bytes_needed(), d);
    if (got == 0) {
      if (!header_.started()) return false;  // EOF between messages (CHAN-EOF-1)
      reset();
      throw npipe::error(errc::protocol_error,
                         "got end of file during message (inside the length header)");
    }
    header_.feed(buf, got);
  }
  if (header_.state() == framing::header_decoder::status::error) {
    std::int32_t bad = header_.bad_length();
    reset();
    lost_ = true;
    throw npipe::error(errc::protocol_error,
                       "bad message header: negative length " + std::to_string(bad) +
                           " (only -1, the escape for an 8-byte length, is allowed)");
  }
  if (header_.length() > maxlength) {
    std::uint64_t length = header_.length();
    reset();
    lost_ = true;  // the payload is left unread in the socket: nothing after it can be parsed
    throw npipe::error(errc::message_too_long,
                       "bad message length: the message is " + std::to_string(length) +
                           " bytes, longer than maxlength " + std::to_string(maxlength) +
                           "; it was not read, and the connection is now write-only");
  }
  return true;
}

void frame_reader::receive_payload(int fd, std::uint8_t* dst, std::size_t end, deadline d) {
  while (filled_ < end) {
    std::size_t got = recv_some(fd, dst + filled_, end - filled_, d);
    if (got == 0) {
      std::string detail = std::to_string(filled_) + " of " + std::to_string(header_.length()) +
                           " payload bytes arrived";
      reset();
      throw npipe::error(errc::protocol_error, "got end of file during message (" + detail + ")");
    }
    filled_ += got;
  }
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
  const std::size_t want = std::max(kInitialPayloadChunk, 2 * payload_.capacity());
  payload_.reserve(std::min(want, length));
}

void frame_reader::read_payload(int fd, std::size_t maxlength, deadline d) {
  const auto length = static_cast<std::size_t>(header_.length());
  while (filled_ < length) {
    if (filled_ == payload_.size()) {
      if (payload_.size() == payload_.capacity()) reserve_payload(maxlength);
      // Costs nothing: bytes' allocator does not zero what resize() adds.
      payload_.resize(std::min(payload_.capacity(), length));
    }
    receive_payload(fd, payload_.data(), payload_.size(), d);
  }
}

std::optional<bytes> frame_reader::read(int fd, std::size_t maxlength, deadline d) {
  if (lost_) {
    throw npipe::error(errc::protocol_error,
                       "the message stream was lost after an earlier framing error");
  }
  if (!read_header(fd, maxlength, d)) return std::nullopt;
  read_payload(fd, maxlength, d);
  bytes message = std::move(payload_);
  reset();
  return message;
}

std::optional<std::size_t> frame_reader::read_into(int fd, std::uint8_t* buf, std::size_t capacity,
                                                   deadline d) {
  if (lost_) {
    throw npipe::error(errc::protocol_error,
                       "the message stream was lost after an earlier framing error");
  }
  if (!read_header(fd, capacity, d)) return std::nullopt;
  const auto length = static_cast<std::size_t>(header_.length());  // at most capacity
  // A message an earlier call began (its deadline passed halfway) goes on from where it stopped.
  std::copy_n(payload_.data(), filled_, buf);
  try {
    receive_payload(fd, buf, length, d);
  } catch (const npipe::error&) {
    // Keep what arrived for the next call, which may bring another buffer (CHAN-RECV-3).
    if (filled_ > 0) payload_.assign(buf, buf + filled_);
    throw;
  }
  reset();
  return length;
}

}  // namespace npipe::posix
