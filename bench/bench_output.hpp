// bench/bench_output.hpp: the JSON lines both benchmark programs print (npipe_bench.cpp on POSIX,
// npipe_bench_win.cpp under Wine), so run.py and wine.py read one format.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <vector>

namespace npipe::bench {

// The percentile p (0..1) of sorted samples, nearest rank.
inline double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(rank, sorted.size() - 1)];
}

inline void print_latency(const std::vector<double>& rtt_us, double total_seconds) {
  std::vector<double> s = rtt_us;
  std::sort(s.begin(), s.end());
  std::printf("{\"median_us\":%.3f,\"p99_us\":%.3f,\"count\":%zu,\"round_trips_per_s\":%.1f}\n",
              percentile(s, 0.5), percentile(s, 0.99), s.size(),
              static_cast<double>(s.size()) / total_seconds);
}

inline void print_stream(std::size_t size, std::size_t count, double seconds) {
  std::printf(
      "{\"bytes\":%zu,\"messages\":%zu,\"seconds\":%.6f,\"bytes_per_s\":%.1f,"
      "\"messages_per_s\":%.1f}\n",
      size * count, count, seconds, static_cast<double>(size * count) / seconds,
      static_cast<double>(count) / seconds);
}

}  // namespace npipe::bench
