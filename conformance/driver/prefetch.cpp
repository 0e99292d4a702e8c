// prefetch.cpp: overlapping scenario runs (see prefetch.hpp).
#include "prefetch.hpp"

namespace npipe::conformance {

prefetcher::prefetcher(const std::vector<planned_run>& plan, const run_options& opts, int jobs)
    : plan_(plan), opts_(opts), jobs_(jobs), slots_(plan.size()) {}

prefetcher::~prefetcher() {
  stop();
}

void prefetcher::start() {
  // The GoogleTest thread runs scenarios too, so jobs - 1 helpers make `jobs` at once.
  for (int i = 1; i < jobs_; ++i)
    workers_.emplace_back([this] { work(); });
}

void prefetcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  for (auto& t : workers_)
    t.join();
  workers_.clear();
}

bool prefetcher::claim(std::size_t index) {
  if (slots_[index].st != state::idle) return false;
  slots_[index].st = state::running;
  return true;
}

void prefetcher::run(std::size_t index) {
  result r = run_scenario(*plan_[index].def, plan_[index].roles, opts_);
  std::lock_guard<std::mutex> lock(mu_);
  slots_[index].r = std::move(r);
  slots_[index].st = state::done;
  cv_.notify_all();
}

void prefetcher::work() {
  for (;;) {
    std::size_t index;
    {
      std::lock_guard<std::mutex> lock(mu_);
      while (next_ < slots_.size() && slots_[next_].st != state::idle)
        ++next_;
      if (stopping_ || next_ >= slots_.size()) return;
      index = next_++;
      claim(index);
    }
    run(index);
  }
}

result prefetcher::get(std::size_t index) {
  std::unique_lock<std::mutex> lock(mu_);
  if (claim(index)) {
    lock.unlock();
    run(index);
    lock.lock();
  }
  cv_.wait(lock, [&] { return slots_[index].st == state::done; });
  return slots_[index].r;
}

}  // namespace npipe::conformance
