// The watchdog of the test support (see support.hpp): portable C++, shared by both platforms.
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "support.hpp"

namespace npipe::test {

struct watchdog::state {
  std::mutex mutex;
  std::condition_variable cv;
  bool started = false;
  bool done = false;
  std::thread thread;
};

watchdog::watchdog(std::chrono::milliseconds limit, std::string what) : state_(new state) {
  state_->thread = std::thread([s = state_, limit, what = std::move(what)] {
    std::unique_lock<std::mutex> lock(s->mutex);
    s->started = true;
    s->cv.notify_all();
    if (!s->cv.wait_for(lock, limit, [s] { return s->done; })) {
      std::fprintf(stderr, "\nnpipe-tests: WATCHDOG: %s did not finish within %lld ms\n",
                   what.empty() ? "the test" : what.c_str(), static_cast<long long>(limit.count()));
      std::fflush(stderr);
      std::abort();
    }
  });
  // The constructor returns only once the thread runs: a test may take resources away right
  // after it (every descriptor, in the rlimit tests), and the thread's start must not need them
  // (UBSan's vptr check of the thread's entry reads memory through a pipe(2)).
  std::unique_lock<std::mutex> lock(state_->mutex);
  state_->cv.wait(lock, [this] { return state_->started; });
}

watchdog::~watchdog() {
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->done = true;
  }
  state_->cv.notify_all();
  state_->thread.join();
  delete state_;
}

}  // namespace npipe::test
