// npipe::deadline (spec section 2, "deadline"): the three forms, and after() saturating instead of
// overflowing for any duration and unit. The ASan+UBSan build (make test-asan) runs these with
// -fsanitize=undefined, which reports the signed overflow that after() used to make.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>

#include "npipe/deadline.hpp"

namespace {

using namespace std::chrono;
using npipe::deadline;

// A deadline that must still be far away: not expired, and at least a day left (clamped).
void expect_far_away(const deadline& d, const char* what) {
  EXPECT_FALSE(d.expired()) << what;
  EXPECT_FALSE(d.is_forever()) << what;
  EXPECT_GE(d.remaining_ms(), 24 * 3600 * 1000) << what;
}

TEST(Deadline, TheThreeForms) {
  EXPECT_TRUE(deadline::forever().is_forever());
  EXPECT_FALSE(deadline::forever().expired());
  EXPECT_EQ(deadline::forever().remaining_ms(), -1);
  EXPECT_TRUE(deadline::immediate().is_immediate());
  EXPECT_TRUE(deadline::immediate().expired());
  EXPECT_EQ(deadline::immediate().remaining_ms(), 0);
  const deadline d = deadline::after(seconds(60));
  EXPECT_FALSE(d.expired());
  EXPECT_GT(d.remaining_ms(), 59000);
  EXPECT_LE(d.remaining_ms(), 60000);
}

TEST(Deadline, AfterSaturatesForHugeDurationsOfEveryUnit) {
  expect_far_away(deadline::after(milliseconds::max()), "milliseconds::max()");
  expect_far_away(deadline::after(nanoseconds::max()), "nanoseconds::max()");
  expect_far_away(deadline::after(microseconds::max()), "microseconds::max()");
  expect_far_away(deadline::after(seconds::max()), "seconds::max()");
  expect_far_away(deadline::after(minutes::max()), "minutes::max()");
  expect_far_away(deadline::after(hours::max()), "hours::max()");
  expect_far_away(deadline::after(duration<std::int64_t, std::pico>::max()), "picoseconds::max()");
  expect_far_away(deadline::after(duration<std::int32_t, std::ratio<86400>>::max()), "int days");
  expect_far_away(deadline::after(duration<std::uint64_t>::max()), "unsigned seconds::max()");
  expect_far_away(deadline::after(duration<double>(1e300)), "1e300 s");
  expect_far_away(deadline::after(duration<double>(std::numeric_limits<double>::infinity())),
                  "infinite seconds");
  // Just below the point where the old arithmetic wrapped: still saturates, still far away.
  expect_far_away(deadline::after(nanoseconds::max() - seconds(1)), "nanoseconds::max() - 1 s");
}

TEST(Deadline, AfterZeroOrNegativeIsAlreadyExpired) {
  EXPECT_TRUE(deadline::after(milliseconds(0)).expired());
  EXPECT_TRUE(deadline::after(seconds(-5)).expired());
  EXPECT_TRUE(deadline::after(milliseconds::min()).expired());
  EXPECT_TRUE(deadline::after(hours::min()).expired());
  EXPECT_TRUE(deadline::after(duration<double>(-1e300)).expired());
  EXPECT_TRUE(
      deadline::after(duration<double>(std::numeric_limits<double>::quiet_NaN())).expired());
  EXPECT_EQ(deadline::after(seconds(-5)).remaining_ms(), 0);
  EXPECT_FALSE(deadline::after(seconds(-5)).is_immediate());
}

TEST(Deadline, AfterRoundsUpNeverDown) {
  // One nanosecond must not become zero (already expired at once) by truncation.
  const deadline d = deadline::after(duration<std::int64_t, std::pico>(1));
  EXPECT_LE(d.remaining_ms(), 1);
  const deadline h = deadline::after(hours(1));
  EXPECT_GT(h.remaining_ms(), 3599000);
}

}  // namespace
