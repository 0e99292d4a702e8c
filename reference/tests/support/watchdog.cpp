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
  bool done = false;
  std::thread thread;
};

watchdog::watchdog(std::chrono::milliseconds limit, std::string what) : state_(new state) {
  state_->thread = std::thread([s = state_, limit, what = std::move(what)] {
    std::unique_lock<std::mutex> lock(s->mutex);
    if (!s->cv.wait_for(lock, limit, [s] { return s->done; })) {
      std::fprintf(stderr, "\nnpipe-tests: WATCHDOG: %s did not finish within %lld ms\n",
                   what.empty() ? "the test" : what.c_str(), static_cast<long long>(limit.count()));
      std::fflush(stderr);
      std::abort();
    }
  });
}

watchdog::~watchdog() {
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->done = true;
  }
  state_->cv.notify_one();
  state_->thread.join();
  delete state_;
}

}  // namespace npipe::test
