// stress/stress_util.cpp
#include "stress_util.hpp"

#include <filesystem>
#include <fstream>

#include "protocol/codec.hpp"
#include "stress.hpp"

namespace stress {

void temp_dir::remove_all(const std::string& p) {
  std::error_code ec;
  std::filesystem::remove_all(p, ec);
}

long vm_hwm_kib() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmHWM:") {
      long v = 0;
      in >> v;
      return v;
    }
    std::getline(in, key);
  }
  return -1;
}

long raise_nofile(long want) {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  if (static_cast<long>(rl.rlim_cur) < want) {
    rl.rlim_cur = std::min<rlim_t>(static_cast<rlim_t>(want), rl.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
  ::getrlimit(RLIMIT_NOFILE, &rl);
  return static_cast<long>(rl.rlim_cur);
}

std::uint8_t pattern_byte(std::uint64_t offset, unsigned seed) {
  std::uint8_t b;
  npipe::protocol::fill_pattern(&b, 1, seed, offset);
  return b;
}

long long pattern_mismatch(const std::uint8_t* p, std::size_t n, std::uint64_t offset,
                           unsigned seed) {
  std::uint8_t expected[4096];
  for (std::size_t done = 0; done < n;) {
    std::size_t k = std::min(n - done, sizeof expected);
    npipe::protocol::fill_pattern(expected, k, seed, offset + done);
    for (std::size_t i = 0; i < k; ++i) {
      if (p[done + i] != expected[i]) return static_cast<long long>(offset + done + i);
    }
    done += k;
  }
  return -1;
}

}  // namespace stress
