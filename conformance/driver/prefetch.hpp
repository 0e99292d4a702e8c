// prefetch.hpp: runs planned scenarios ahead of GoogleTest on a few worker threads (--jobs).
//
// Agents spend their lives asleep in system calls; what costs is starting them (a CPython agent
// takes 0.1-0.3 s). So runs overlap: workers take runs in plan order, and each GoogleTest test
// either collects its finished result or, when no worker has started it yet, runs it itself.
// Every run still has its own private directory, agents and watchdog.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "plan.hpp"
#include "result.hpp"
#include "runner.hpp"

namespace npipe::conformance {

class prefetcher {
 public:
  prefetcher(const std::vector<planned_run>& plan, const run_options& opts, int jobs);
  ~prefetcher();
  void start();
  void stop();
  // The result of plan[index], waiting for it or computing it here.
  result get(std::size_t index);

 private:
  enum class state { idle, running, done };
  struct slot {
    state st = state::idle;
    result r;
  };
  void work();
  bool claim(std::size_t index);
  void run(std::size_t index);

  const std::vector<planned_run>& plan_;
  const run_options& opts_;
  int jobs_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<slot> slots_;
  std::size_t next_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace npipe::conformance
