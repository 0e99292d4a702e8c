// Helpers of the Windows-only tests (win32_*_test.cpp): unique pipe names, error capture, and the
// child processes' line protocol.
#pragma once

#ifdef _WIN32

#include <windows.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <iostream>
#include <string>

#include <gtest/gtest.h>

#include "npipe/error.hpp"

namespace npipe::w32test {

using namespace std::chrono_literals;

// Generous bound for "this should happen now" under Wine on a loaded 2-core machine.
constexpr std::chrono::milliseconds kReply = 20s;

// A pipe name no other test (or test process) uses: the portable form, npipe-w32-<pid>-<tag>-<n>.
inline std::string unique_name(const std::string& tag) {
  static std::atomic<unsigned> counter{0};
  return "npipe-w32-" + std::to_string(::GetCurrentProcessId()) + "-" + tag + "-" +
         std::to_string(counter.fetch_add(1));
}

struct caught {
  bool thrown = false;
  errc code = errc::io_error;
  std::string native;
  std::string what;
};

inline caught catch_error(const std::function<void()>& f) {
  caught c;
  try {
    f();
  } catch (const npipe::error& e) {
    c.thrown = true;
    c.code = e.value();
    c.native = e.native_name();
    c.what = e.what();
  }
  return c;
}

inline void say(const std::string& line) {
  std::cout << line << std::endl;
}

// True under Wine (ntdll exports wine_get_version). Used ONLY to apply a known, documented Wine
// deviation strictly, as Wine's own todo_wine does: the deviation must be observed exactly, and its
// disappearance fails the test ("unexpected pass") so the expectation gets removed.
inline bool running_under_wine() {
  HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
  return ntdll && ::GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

// The pattern of the driver protocol: b[i] = (seed + i mod 251) mod 256.
inline std::string pattern(std::size_t n, unsigned seed = 7) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>((seed + i % 251) % 256);
  return s;
}

}  // namespace npipe::w32test

#define EXPECT_NPIPE_ERROR(expr, expected)                                     \
  do {                                                                         \
    auto npipe_caught_ = ::npipe::w32test::catch_error([&] { (void)(expr); }); \
    EXPECT_TRUE(npipe_caught_.thrown) << #expr << " did not throw";            \
    EXPECT_EQ(npipe_caught_.code, (expected)) << npipe_caught_.what;           \
  } while (0)

#endif  // _WIN32
