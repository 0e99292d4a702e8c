// fuzz/scripted_transport.hpp: an in-memory handshake::message_transport that plays a hostile
// peer from a script (the fuzz input), and records what our side sent.
//
// Script: a sequence of records, each starting with an opcode byte (taken modulo 8):
//   0 len_hi len_lo bytes...  the peer's next message: `len` bytes (fewer if the input ends)
//   1                         EOF on a message boundary (receive gives std::nullopt)
//   2 len_hi len_lo           a message whose header claims `len` * 65537 bytes but which is never
//                             sent whole: message_too_long when that exceeds maxlength, else
//                             protocol_error (EOF inside it), as frame_reader does
//   3                         the connection breaks: receive throws protocol_error
//   4                         the peer's deadline passes: receive throws timeout
//   5                         our next send fails with broken_pipe (the peer left)
//   6 digest k                the right answer to the last challenge we sent, computed with the
//                             key, in the form `digest` selects (0: raw MD5, 1..5: {name}),
//                             with its last k % 4 bytes cut off (k % 4 == 0: whole)
//   7 ...                     like 6, but computed with a wrong key
// The end of the script is EOF.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/crypto.hpp"
#include "common/handshake.hpp"
#include "npipe/error.hpp"

namespace fuzz {

using byte_vector = std::vector<std::uint8_t>;

constexpr std::array<std::string_view, 6> kAnswerForms = {"",       "md5",      "sha256",
                                                          "sha384", "sha3_256", "sha3_384"};

class scripted_transport : public npipe::handshake::message_transport {
 public:
  scripted_transport(const std::uint8_t* data, std::size_t n, std::string key)
      : p_(data), end_(data + n), key_(std::move(key)) {}

  void send_message(const std::uint8_t* data, std::size_t n) override {
    if (fail_next_send_) {
      fail_next_send_ = false;
      throw npipe::error(npipe::errc::broken_pipe, "send on a channel: the peer is gone");
    }
    sent.emplace_back(data, data + n);
  }

  std::optional<byte_vector> receive_message(std::size_t maxlength, npipe::deadline) override {
    ++receives;
    for (;;) {
      if (p_ == end_) return std::nullopt;
      const unsigned op = *p_++ % 8;
      switch (op) {
        case 0: {
          std::size_t len = take_u16();
          len = std::min<std::size_t>(len, static_cast<std::size_t>(end_ - p_));
          byte_vector m(p_, p_ + len);
          p_ += len;
          if (m.size() > maxlength) {
            throw npipe::error(npipe::errc::message_too_long, "bad message length");
          }
          received.push_back(m);
          return m;
        }
        case 1:
          return std::nullopt;
        case 2: {
          std::uint64_t claimed = std::uint64_t{take_u16()} * 65537u;
          if (claimed > maxlength) {
            throw npipe::error(npipe::errc::message_too_long, "bad message length");
          }
          throw npipe::error(npipe::errc::protocol_error, "got end of file during message");
        }
        case 3:
          throw npipe::error(npipe::errc::protocol_error, "bad message header");
        case 4:
          throw npipe::error(npipe::errc::timeout, "receive: the deadline passed");
        case 5:
          fail_next_send_ = true;
          continue;
        case 6:
        case 7: {
          byte_vector answer = computed_answer(op == 6 ? key_ : key_ + "x");
          if (answer.size() > maxlength) {
            throw npipe::error(npipe::errc::message_too_long, "bad message length");
          }
          received.push_back(answer);
          return answer;
        }
      }
    }
  }

  // Messages our side sent, and whole messages the script delivered, in order.
  std::vector<byte_vector> sent;
  std::vector<byte_vector> received;
  int receives = 0;
  // Set when the last answer the script produced was a whole, right one (opcode 6, k % 4 == 0).
  bool last_answer_right = false;

 private:
  std::size_t take_u16() {
    std::size_t v = 0;
    for (int i = 0; i < 2 && p_ != end_; ++i)
      v = (v << 8) | *p_++;
    return v;
  }

  byte_vector computed_answer(const std::string& key) {
    const unsigned form = (p_ != end_ ? *p_++ : 0) % kAnswerForms.size();
    const unsigned cut = (p_ != end_ ? *p_++ : 0) % 4;
    last_answer_right = false;
    // The challenge message M: our last sent message after "#CHALLENGE#".
    static constexpr std::string_view kPrefix = "#CHALLENGE#";
    byte_vector m;
    for (auto it = sent.rbegin(); it != sent.rend(); ++it) {
      if (it->size() >= kPrefix.size() && std::equal(kPrefix.begin(), kPrefix.end(), it->begin())) {
        m.assign(it->begin() + static_cast<std::ptrdiff_t>(kPrefix.size()), it->end());
        break;
      }
    }
    std::string_view name = kAnswerForms[form];
    auto mac = npipe::crypto::hmac(name.empty() ? "md5" : name, key, m.data(), m.size());
    if (!mac) return byte_vector{};
    byte_vector out;
    if (!name.empty()) {
      out.push_back('{');
      out.insert(out.end(), name.begin(), name.end());
      out.push_back('}');
    }
    out.insert(out.end(), mac->begin(), mac->end());
    out.resize(out.size() - cut);
    last_answer_right = cut == 0 && key == key_ && !m.empty();
    return out;
  }

  const std::uint8_t* p_;
  const std::uint8_t* end_;
  std::string key_;
  bool fail_next_send_ = false;
};

// The keys the targets pick from: the empty key is a key (CHAN-AUTH-10). Distinctive, so that a
// key leaking into an error message is caught by a plain search.
inline std::string pick_key(std::uint8_t b) {
  switch (b % 3) {
    case 0:
      return "npipe-fuzz-SECRET-key-0123456789";
    case 1:
      return "";
    default:
      return std::string("npipe-fuzz-SECRET-\0\xff-binary", 27);
  }
}

inline bool leaks_key(const std::string& text, const std::string& key) {
  return !key.empty() && text.find(key) != std::string::npos;
}

}  // namespace fuzz
