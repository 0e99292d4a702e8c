// posix/wine.cpp: one wineserver per Wine prefix for the run (see wine.hpp).
#include "wine.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <vector>

#include "platform.hpp"

namespace npipe::conformance::wine {
namespace {

std::vector<std::string> g_started;  // prefixes whose server this run started
std::mutex g_mu;

std::string wineserver_bin() {
  for (const char* c :
       {"/usr/bin/wineserver", "/usr/lib/wine/wineserver64", "/usr/lib/wine/wineserver"})
    if (platform::is_executable(c)) return c;
  return "wineserver";
}

std::string env_of(const std::string& prefix) {
  return "WINEPREFIX=" + platform::quote(prefix) + " WINEDEBUG=-all ";
}

}  // namespace

bool start(const implementation& impl, std::string& why) {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    if (std::find(g_started.begin(), g_started.end(), impl.wineprefix) != g_started.end())
      return true;
  }
  std::error_code ec;
  std::filesystem::create_directories(impl.wineprefix, ec);
  // Held until this process exits (the descriptor is never closed).
  std::string lock_path = impl.wineprefix + "/.npipe-conformance.lock";
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd >= 0 && ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    std::cerr << "npipe-conformance: " << impl.name << ": waiting for another conformance run "
              << "using " << impl.wineprefix << "\n";
    ::flock(lock_fd, LOCK_EX);
  }
  std::string env = env_of(impl.wineprefix);
  auto t0 = std::chrono::steady_clock::now();
  if (platform::run_quiet(env + platform::quote(wineserver_bin()) + " -p") == 0) {
    std::lock_guard<std::mutex> lock(g_mu);
    g_started.push_back(impl.wineprefix);
  } else {
    std::cerr << "npipe-conformance: " << impl.name << ": wineserver -p failed (one already up for "
              << impl.wineprefix << "?); using it and leaving it running\n";
  }
  // Warm-up: one agent that exits at once (EOF on stdin), outside any scenario's process group.
  int rc = platform::run_quiet(env + "timeout 120 /bin/sh -c " +
                               platform::quote("exec " + impl.command) + " </dev/null");
  long ms = static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count());
  std::cerr << "npipe-conformance: " << impl.name << ": wineserver up for " << impl.wineprefix
            << " (warm-up " << ms << " ms)\n";
  if (rc != 0) {
    why = "the warm-up agent under Wine exited with status " + std::to_string(rc);
    return false;
  }
  return true;
}

void stop_all() noexcept {
  std::lock_guard<std::mutex> lock(g_mu);
  for (const auto& prefix : g_started)
    platform::run_quiet("WINEPREFIX=" + platform::quote(prefix) + " " +
                        platform::quote(wineserver_bin()) + " -k");
  g_started.clear();
}

}  // namespace npipe::conformance::wine
