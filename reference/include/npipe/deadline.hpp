// npipe/deadline.hpp: how long a call may wait (spec: "Terms", deadline).
//
// Every call that can block takes a deadline with three forms, matching the three forms of open
// the spec defines: forever (block), immediate (non-blocking: would_block instead of waiting) and
// after(d) (block at most d, then timeout).
#pragma once

#include <chrono>

namespace npipe {

class deadline {
 public:
  using clock = std::chrono::steady_clock;

  static deadline forever() noexcept { return deadline(kind::forever, {}); }
  static deadline immediate() noexcept { return deadline(kind::immediate, {}); }
  static deadline after(std::chrono::milliseconds d) noexcept {
    return deadline(kind::at, clock::now() + d);
  }
  static deadline at(clock::time_point t) noexcept { return deadline(kind::at, t); }

  bool is_forever() const noexcept { return kind_ == kind::forever; }
  bool is_immediate() const noexcept { return kind_ == kind::immediate; }
  // True once the time has passed (always true for immediate, never for forever).
  bool expired() const noexcept {
    return kind_ == kind::immediate || (kind_ == kind::at && clock::now() >= when_);
  }
  // Time left, rounded up to whole milliseconds and never negative; -1 for forever, so it can be
  // handed to poll(2) and, clamped, to Win32 waits.
  int remaining_ms() const noexcept {
    if (kind_ == kind::forever) return -1;
    if (kind_ == kind::immediate) return 0;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(when_ - clock::now()).count();
    if (left <= 0) return 0;
    return left > 0x7fffffff ? 0x7fffffff : static_cast<int>(left);
  }

 private:
  enum class kind { forever, immediate, at };
  deadline(kind k, clock::time_point t) noexcept : kind_(k), when_(t) {}
  kind kind_;
  clock::time_point when_;
};

}  // namespace npipe
