// Regression tests for bugs found by the reliability work (issue 8: fuzz/, stress/). Each test
// names the stress profile or fuzz target that found the bug.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/time.h>

#include <chrono>
#include <vector>

#include "channel_test_util.hpp"
#include "npipe/channel.hpp"
#include "npipe/error.hpp"
#include "support.hpp"

namespace {

using namespace std::chrono_literals;
using npipe::errc;
using npipe::chantest::error_of;

volatile sig_atomic_t g_alarms = 0;
void count_alarm(int) {
  g_alarms = g_alarms + 1;
}

// A 1 ms SIGALRM timer whose no-op handler is installed without SA_RESTART, so that blocking
// system calls keep failing with EINTR while it is armed. Disarmed and restored on destruction.
class interval_timer {
 public:
  interval_timer() {
    struct sigaction sa {};
    sa.sa_handler = count_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGALRM, &sa, &old_);
    itimerval it{{0, 1000}, {0, 1000}};
    setitimer(ITIMER_REAL, &it, nullptr);
  }
  ~interval_timer() {
    itimerval off{};
    setitimer(ITIMER_REAL, &off, nullptr);
    sigaction(SIGALRM, &old_, nullptr);
  }

 private:
  struct sigaction old_ {};
};

// Found by `npipe-stress --only signals`: connect() with a deadline to a listener whose backlog
// is full retried each EINTR with the full SO_SNDTIMEO again, so under a periodic signal it never
// reached its deadline (the stress run hung for 60 s on a 200 ms deadline).
// NPIPE_REQ: ERR-4
// NPIPE_REQ: CHAN-CONNECT-4
TEST(ReliabilityRegression, TimedConnectToAFullBacklogEndsAtItsDeadlineUnderAPeriodicSignal) {
  npipe::test::watchdog dog(20s, "timed connect under SIGALRM");
  npipe::test::temp_dir dir;
  npipe::listener_options lo;
  lo.backlog = 1;
  npipe::listener l = npipe::listener::listen(dir.file("full.sock"), lo);  // never accepts
  std::vector<npipe::connection> fillers;
  for (int i = 0; i < 64; ++i) {
    try {
      fillers.push_back(
          npipe::connection::connect(dir.file("full.sock"), {}, npipe::deadline::immediate()));
    } catch (const npipe::error& e) {
      ASSERT_EQ(e.value(), errc::would_block) << e.what();
      break;
    }
  }
  ASSERT_LT(fillers.size(), 64u) << "the backlog never filled up";

  interval_timer timer;
  g_alarms = 0;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(error_of([&] {
              npipe::connection::connect(dir.file("full.sock"), {},
                                         npipe::deadline::after(200ms));
            }),
            errc::timeout);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 3s) << "the deadline was not honoured under EINTR";
  EXPECT_GT(g_alarms, 10) << "the timer did not interrupt the connect";
}

}  // namespace
