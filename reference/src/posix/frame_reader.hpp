// Receives whole length-framed messages (Python's multiprocessing.connection framing) from a
// stream socket, keeping a message that is half received when a deadline passes, so the next
// call resumes it: a timeout never loses or desynchronises data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/framing.hpp"
#include "npipe/channel.hpp"
#include "npipe/deadline.hpp"

namespace npipe::posix {

class frame_reader {
 public:
  // One whole message of at most maxlength bytes, or std::nullopt at EOF on a message boundary.
  // Throws npipe::error:
  //   message_too_long: the header announces more than maxlength; the payload is neither read
  //                     nor allocated (CHAN-RECV-1);
  //   protocol_error:   a negative length other than -1 (CHAN-FRAME-4), or EOF inside a message
  //                     (CHAN-EOF-2);
  //   timeout / would_block: `d` passed; what arrived so far is kept for the next call.
  // After message_too_long or a bad length, stream_lost() is true: the stream cannot be parsed
  // any further.
  std::optional<bytes> read(int fd, std::size_t maxlength, deadline d);

  // The same, into the caller's buffer of `capacity` bytes (which plays the part of maxlength):
  // returns the message's length. A message cut short by a deadline is kept for the next call
  // whichever form it makes.
  std::optional<std::size_t> read_into(int fd, std::uint8_t* buf, std::size_t capacity, deadline d);

  bool stream_lost() const noexcept { return lost_; }

 private:
  bool read_header(int fd, std::size_t maxlength, deadline d);   // false: EOF between messages
  void read_payload(int fd, std::size_t maxlength, deadline d);  // into payload_
  void reserve_payload(std::size_t maxlength);  // room for more of the payload (CHAN-RECV-5)
  // Receives payload bytes until filled_ == end, into dst (which holds at least `end` bytes).
  void receive_payload(int fd, std::uint8_t* dst, std::size_t end, deadline d);
  void reset() noexcept;

  framing::header_decoder header_;
  // Grows as bytes arrive; reserved whole only for a length the caller's maxlength accepted.
  bytes payload_;  // resize() does not zero it: recv writes each byte once
  std::size_t filled_ = 0;
  bool lost_ = false;
};

}  // namespace npipe::posix
