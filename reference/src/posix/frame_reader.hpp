// Receives whole length-framed messages (Python's multiprocessing.connection framing) from a
// stream socket, keeping a message that is half received when a deadline passes, so the next
// call resumes it: a timeout never loses or desynchronises data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/backend.hpp"
#include "common/framing.hpp"
#include "npipe/channel.hpp"
#include "npipe/deadline.hpp"

namespace npipe::posix {

class frame_reader {
 public:
  using received = backend::message_stream::received;

  // One whole message of at most maxlength bytes into `out`: message, eof (on a message
  // boundary), or expired (`d` passed; what arrived so far is kept for the next call). Throws
  // npipe::error:
  //   message_too_long: the header announces more than maxlength; the payload is neither read
  //                     nor allocated (CHAN-RECV-1);
  //   protocol_error:   a negative length other than -1 (CHAN-FRAME-4), or EOF inside a message
  //                     (CHAN-EOF-2).
  // After message_too_long or a bad length, stream_lost() is true: the stream cannot be parsed
  // any further.
  received read(int fd, std::size_t maxlength, deadline d, bytes& out);

  // The same, into the caller's buffer of `capacity` bytes (which plays the part of maxlength),
  // the message's length in `length`. A message cut short by a deadline is kept for the next call
  // whichever form it makes.
  received read_into(int fd, std::uint8_t* buf, std::size_t capacity, deadline d,
                     std::size_t& length);

  bool stream_lost() const noexcept { return lost_; }
  // True while part of a message (header or payload) is held for the next call.
  bool holds_partial_message() const noexcept { return header_.started() || filled_ > 0; }

 private:
  enum class step { done, eof, expired };
  step read_header(int fd, std::size_t maxlength, deadline d);
  step read_payload(int fd, std::size_t maxlength, deadline d);  // into payload_
  void reserve_payload(std::size_t maxlength);  // room for more of the payload (CHAN-RECV-5)
  // Receives payload bytes until filled_ == end, into dst (which holds at least `end` bytes).
  step receive_payload(int fd, std::uint8_t* dst, std::size_t end, deadline d);
  void check_not_lost() const;
  void reset() noexcept;

  framing::header_decoder header_;
  // Grows as bytes arrive; reserved whole only for a length the caller's maxlength accepted.
  bytes payload_;  // resize() does not zero it: recv writes each byte once
  std::size_t filled_ = 0;
  bool lost_ = false;
};

}  // namespace npipe::posix
