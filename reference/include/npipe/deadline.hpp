// npipe/deadline.hpp: how long a call may wait (spec: "Terms", deadline).
//
// Every call that can block takes a deadline with three forms, matching the three forms of open
// the spec defines: forever (block), immediate (non-blocking: would_block instead of waiting) and
// after(d) (block at most d, then timeout).
#pragma once

#include <chrono>
#include <ratio>
#include <type_traits>

namespace npipe {

class deadline {
 public:
  using clock = std::chrono::steady_clock;

  static deadline forever() noexcept { return deadline(kind::forever, {}); }
  static deadline immediate() noexcept { return deadline(kind::immediate, {}); }

  // `d` from now, for any duration type. Saturates instead of overflowing: a duration that would
  // carry the time point past clock::time_point::max() (milliseconds::max(), hours::max(), a huge
  // floating-point count) means that time point, which never comes in practice. A zero or negative
  // duration (or a NaN one) is already expired, as a point in the past.
  template <class Rep, class Period>
  static deadline after(std::chrono::duration<Rep, Period> d) noexcept {
    const clock::time_point now = clock::now();
    return deadline(kind::at, now + saturated(d, clock::time_point::max() - now));
  }
  static deadline at(clock::time_point t) noexcept { return deadline(kind::at, t); }

  bool is_forever() const noexcept { return kind_ == kind::forever; }
  bool is_immediate() const noexcept { return kind_ == kind::immediate; }
  // True once the time has passed (always true for immediate, never for forever).
  bool expired() const noexcept {
    return kind_ == kind::immediate || (kind_ == kind::at && clock::now() >= when_);
  }
  // Time left, rounded up to whole milliseconds and never negative; -1 for forever, so it can be
  // handed to poll(2) and, clamped, to Win32 waits. At most INT_MAX (about 24.8 days): a longer
  // wait is made of several.
  int remaining_ms() const noexcept {
    if (kind_ == kind::forever) return -1;
    if (kind_ == kind::immediate) return 0;
    const clock::time_point now = clock::now();
    if (now >= when_) return 0;
    // when_ > now, so the difference is positive and cannot overflow.
    auto left = std::chrono::ceil<std::chrono::milliseconds>(when_ - now).count();
    return left > 0x7fffffff ? 0x7fffffff : static_cast<int>(left);
  }

 private:
  enum class kind { forever, immediate, at };
  deadline(kind k, clock::time_point t) noexcept : kind_(k), when_(t) {}

  // `d` as a clock::duration in [0, limit], rounded up, computed without any overflow: every
  // comparison is made in whichever of the two units converts the other by division only.
  template <class Rep, class Period>
  static clock::duration saturated(std::chrono::duration<Rep, Period> d,
                                   clock::duration limit) noexcept {
    using D = std::chrono::duration<Rep, Period>;
    if constexpr (std::chrono::treat_as_floating_point<Rep>::value) {
      // In seconds as long double: no overflow for any finite value; NaN fails both tests.
      const long double s = std::chrono::duration<long double>(d).count();
      if (!(s > 0)) return clock::duration::zero();
      const long double max_s = std::chrono::duration<long double>(limit).count();
      if (!(s < max_s)) return limit;
      return std::chrono::ceil<clock::duration>(std::chrono::duration<long double>(s));
    } else {
      if (d <= D::zero()) return clock::duration::zero();
      if constexpr (std::ratio_less_equal<Period, clock::period>::value) {
        // d's unit is finer (or the same): converting d to the clock's unit divides.
        const clock::duration c = std::chrono::ceil<clock::duration>(d);
        return c > limit ? limit : c;
      } else {
        // d's unit is coarser: compare in d's unit (converting limit divides), then convert d,
        // which is now known to fit.
        if (d > std::chrono::duration_cast<D>(limit)) return limit;
        return std::chrono::duration_cast<clock::duration>(d);
      }
    }
  }

  kind kind_;
  clock::time_point when_;
};

}  // namespace npipe
