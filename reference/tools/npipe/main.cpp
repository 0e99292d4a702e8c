// npipe/main.cpp: the command-line tool's entry point: dispatch, and the mapping of every
// failure to an exit status (spec ERR-3: 9 + the portable error's number).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "commands.hpp"
#include "common/console.hpp"
#include "npipe/error.hpp"
#include "npipe/version.hpp"
#include "options.hpp"

namespace {

constexpr int kExitUsage = 2;
constexpr int kExitInternal = 1;

int exit_status(npipe::errc e) {
  return 9 + static_cast<int>(e);
}

int dispatch(const npipe::cli::words& all) {
  using namespace npipe::cli;
  if (all.empty()) throw usage_error("missing command");
  const std::string& command = all[0];
  words args(all.begin() + 1, all.end());
  for (const auto& w : args) {
    if (w == "--") break;
    if (w == "--help" || w == "-h") {
      std::fputs(help_text(), stdout);
      return 0;
    }
  }
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(help_text(), stdout);
    return 0;
  }
  if (command == "--version") {
    std::puts("npipe " NPIPE_VERSION_STRING);
    return 0;
  }
  if (command == "mkfifo") return run_mkfifo(args);
  if (command == "read") return run_read(args);
  if (command == "write") return run_write(args);
  if (command == "recv") return run_recv(args);
  if (command == "send") return run_send(args);
  throw usage_error("unknown command '" + command + "'");
}

}  // namespace

int main(int argc, char** argv) {
  npipe::tools::init_console();
  npipe::tools::watch_interrupts();
  int status = kExitInternal;
  try {
    status = dispatch(npipe::cli::words(argv + 1, argv + argc));
  } catch (const npipe::cli::usage_error& e) {
    std::fprintf(stderr, "npipe: %s\nTry 'npipe --help'.\n", e.what());
    status = kExitUsage;
  } catch (const npipe::error& e) {
    std::fprintf(stderr, "npipe: %s\n", e.what());  // what() starts with the portable name
    status = exit_status(e.value());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "npipe: io_error: out of memory\n");
    status = exit_status(npipe::errc::io_error);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "npipe: internal error: %s\n", e.what());
  }
  // Text written through stdio (--help, --version) fails here, not where it was written: a
  // closed stdout is broken_pipe there too. ferror() catches a failure fputs already met.
  if ((std::fflush(stdout) != 0 || std::ferror(stdout)) && status == 0) {
    int err = errno;
    npipe::errc e = err == EPIPE ? npipe::errc::broken_pipe : npipe::errc::io_error;
    std::fprintf(stderr, "npipe: %s: write standard output: %s\n", npipe::errc_name(e),
                 std::strerror(err));
    status = exit_status(e);
  }
  return status;
}
