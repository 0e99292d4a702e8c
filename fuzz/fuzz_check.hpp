// fuzz/fuzz_check.hpp: the one assertion the fuzz targets use. A failed check prints what broke and
// aborts, which libFuzzer reports as a crash (and saves the input), and which the corpus-replay
// tests (replay_main.cpp) report as a failed test. Never prints input bytes that could be a key.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond, what)                                                                 \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s (%s)\n", __FILE__, __LINE__, #cond, \
                   what);                                                                      \
      std::abort();                                                                            \
    }                                                                                          \
  } while (0)
