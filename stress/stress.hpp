// stress/stress.hpp: the profiles of npipe-stress and what they share.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "stress_util.hpp"

namespace stress {

struct config {
  bool quick = false;
  long trials = 500;  // per kill profile
  std::uint64_t seed = 0;
  std::chrono::milliseconds handshake_timeout{1000};
  int clients = 500;  // concurrent clients
};

// Each profile fills its row(s) of the table.
void profile_kill_fifo(const config& c, std::mt19937_64& rng, row& r);
void profile_kill_channel(const config& c, std::mt19937_64& rng, row& r);
void profile_signals(const config& c, std::mt19937_64& rng, row& r);
void profile_concurrency(const config& c, std::mt19937_64& rng, row& r);
void profile_rlimit(const config& c, std::mt19937_64& rng, row& r);
void profile_hostile_peers(const config& c, std::mt19937_64& rng, row& r);
void profile_names(const config& c, std::mt19937_64& rng, row& r);

// The test pattern of the driver protocol (npipe::protocol::fill_pattern): byte k of a stream is
// a function of k, so any lost, repeated or reordered byte is detected at its offset.
std::uint8_t pattern_byte(std::uint64_t offset, unsigned seed);
// The first offset in [offset, offset + n) whose byte is not the pattern's, or -1.
long long pattern_mismatch(const std::uint8_t* p, std::size_t n, std::uint64_t offset,
                           unsigned seed);

}  // namespace stress
