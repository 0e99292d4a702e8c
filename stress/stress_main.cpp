// stress/stress_main.cpp: npipe-stress, fault injection against the reference implementation
// (issue 8). Usage:
//   npipe-stress [--quick] [--trials N] [--clients N] [--seed S] [--only PROFILE[,PROFILE...]]
// Profiles: kill-fifo, kill-channel, signals, concurrency, rlimit, hostile, names.
// Ends with a table (faults injected, survived, bytes lost, descriptors leaked, hangs, hostile
// inputs) and exits 0 only when every trial survived with nothing lost, leaked or hung. A hang
// aborts with exit status 3 naming what hung. The seed is printed so that a failing run can be
// repeated exactly (as far as scheduling allows).
#include <signal.h>

#include <cstdlib>
#include <cstring>
#include <sstream>

#include "stress.hpp"

namespace {

struct profile_entry {
  const char* name;
  void (*fn)(const stress::config&, std::mt19937_64&, stress::row&);
};

constexpr profile_entry kProfiles[] = {
    {"kill-fifo", stress::profile_kill_fifo}, {"kill-channel", stress::profile_kill_channel},
    {"signals", stress::profile_signals},     {"concurrency", stress::profile_concurrency},
    {"rlimit", stress::profile_rlimit},       {"hostile", stress::profile_hostile_peers},
    {"names", stress::profile_names},
};

int usage() {
  std::fprintf(stderr,
               "usage: npipe-stress [--quick] [--trials N] [--clients N] [--seed S] "
               "[--only P[,P...]]\nprofiles:");
  for (const auto& p : kProfiles)
    std::fprintf(stderr, " %s", p.name);
  std::fprintf(stderr, "\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  stress::config c;
  c.seed = std::random_device{}();
  bool trials_given = false, clients_given = false;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "--quick") {
      c.quick = true;
    } else if (a == "--trials") {
      const char* v = value();
      if (!v) return usage();
      c.trials = std::atol(v);
      trials_given = true;
    } else if (a == "--clients") {
      const char* v = value();
      if (!v) return usage();
      c.clients = std::atoi(v);
      clients_given = true;
    } else if (a == "--seed") {
      const char* v = value();
      if (!v) return usage();
      c.seed = std::strtoull(v, nullptr, 0);
    } else if (a == "--only") {
      const char* v = value();
      if (!v) return usage();
      only = std::string(",") + v + ",";
    } else {
      return usage();
    }
  }
  if (c.quick) {
    if (!trials_given) c.trials = 30;
    if (!clients_given) c.clients = 100;
    c.handshake_timeout = std::chrono::milliseconds(400);
  }
  // The tool itself must never die of SIGPIPE: the library promises that (FIFO-PIPE-1,
  // CHAN-EOF-3), so SIGPIPE keeps its default action here and a violation kills the run.
  std::printf("npipe-stress: %s, seed %llu, %ld trials per kill profile, %d concurrent clients\n",
              c.quick ? "quick" : "full", static_cast<unsigned long long>(c.seed), c.trials,
              c.clients);
  std::fflush(stdout);

  std::vector<stress::row> rows;
  for (const auto& p : kProfiles) {
    if (!only.empty() && only.find(std::string(",") + p.name + ",") == std::string::npos) continue;
    std::mt19937_64 rng(c.seed ^ std::hash<std::string>{}(p.name));
    stress::row r;
    r.profile = p.name;
    auto start = stress::clock_type::now();
    std::fprintf(stderr, "npipe-stress: profile %s...\n", p.name);
    p.fn(c, rng, r);
    r.note("took " + std::to_string(stress::elapsed_ms(start)) + " ms");
    rows.push_back(std::move(r));
  }

  stress::row total;
  total.profile = "TOTAL";
  std::printf("\n%-13s %7s %7s %8s %10s %10s %6s %8s %8s\n", "profile", "trials", "faults",
              "survived", "bytes_lost", "fds_leaked", "hangs", "hostile", "failures");
  for (const auto& r : rows) {
    std::printf("%-13s %7ld %7ld %8ld %10ld %10ld %6ld %8ld %8ld\n", r.profile.c_str(), r.trials,
                r.faults, r.survived, r.bytes_lost, r.fds_leaked, r.hangs, r.hostile, r.failures);
    total.trials += r.trials;
    total.faults += r.faults;
    total.survived += r.survived;
    total.bytes_lost += r.bytes_lost;
    total.fds_leaked += r.fds_leaked;
    total.hangs += r.hangs;
    total.hostile += r.hostile;
    total.failures += r.failures;
  }
  std::printf("%-13s %7ld %7ld %8ld %10ld %10ld %6ld %8ld %8ld\n", "TOTAL", total.trials,
              total.faults, total.survived, total.bytes_lost, total.fds_leaked, total.hangs,
              total.hostile, total.failures);
  std::printf("\nnotes:\n");
  for (const auto& r : rows) {
    for (const auto& n : r.notes)
      std::printf("  [%s] %s\n", r.profile.c_str(), n.c_str());
  }
  const bool clean =
      total.failures == 0 && total.bytes_lost == 0 && total.fds_leaked == 0 && total.hangs == 0;
  std::printf("\nnpipe-stress: %s (seed %llu)\n", clean ? "PASS" : "FAIL",
              static_cast<unsigned long long>(c.seed));
  return clean ? 0 : 1;
}
