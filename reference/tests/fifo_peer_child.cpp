// Child entry points for the FIFO tests: real processes on the other side of a FIFO.
#ifndef _WIN32

#include <grp.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "fifo_test_helpers.hpp"
#include "npipe/npipe.hpp"

namespace {

using npipe::deadline;
using npipe::direction;

deadline parse_form(const std::string& form) {
  if (form == "forever") return deadline::forever();
  if (form == "immediate") return deadline::immediate();
  return deadline::after(std::chrono::milliseconds(std::stol(form)));
}

void say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

// Runs the command loop on an open end. Commands (one a line):
//   write TEXT        -> "wrote N"              writes TEXT (forever)
//   writepat N        -> "wrote N"              N bytes of the test pattern, write_all
//   read N            -> "data TEXT" | "eof"    one read of at most N bytes (forever)
//   readall           -> "total N HASH"         reads to EOF, FNV-1a of everything
//   close             -> "closed"
//   exit              -> exits 0
// Any npipe::error is answered "error <errc name>".
int command_loop(npipe::fifo_end& end) {
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    try {
      if (cmd == "write") {
        std::string text = line.size() > 6 ? line.substr(6) : "";
        say("wrote " + std::to_string(end.write(text.data(), text.size())));
      } else if (cmd == "writepat") {
        std::size_t n = 0;
        in >> n;
        std::vector<unsigned char> buf(n);
        for (std::size_t i = 0; i < n; ++i)
          buf[i] = npipe::test::fifo::pattern_byte(i);
        end.write_all(buf.data(), n);
        say("wrote " + std::to_string(n));
      } else if (cmd == "read") {
        std::size_t n = 0;
        in >> n;
        std::string buf(n, '\0');
        say("reading");
        std::size_t got = end.read(buf.data(), n);
        say(got == 0 ? "eof" : "data " + buf.substr(0, got));
      } else if (cmd == "readall") {
        std::vector<char> buf(65536);
        std::uint64_t total = 0, hash = 1469598103934665603ull;
        for (;;) {
          std::size_t got = end.read(buf.data(), buf.size());
          if (got == 0) break;
          hash = npipe::test::fifo::fnv1a(buf.data(), got, hash);
          total += got;
        }
        say("total " + std::to_string(total) + " " + std::to_string(hash));
      } else if (cmd == "close") {
        end.close();
        say("closed");
      } else if (cmd == "exit") {
        return 0;
      } else {
        say("unknown command " + cmd);
      }
    } catch (const npipe::error& e) {
      say(std::string("error ") + npipe::errc_name(e.value()));
    }
  }
  return 0;
}

}  // namespace

// args: path, "r"|"w", form [, "nobody"]. Prints "opened" or "error <name>", then runs the
// command loop. With "nobody" it first drops root privileges to uid/gid 65534.
NPIPE_TEST_CHILD(fifo_peer) {
  const auto& args = npipe::test::child_args();
  if (args.size() != 3 && args.size() != 4) return 2;
  if (args.size() == 4 && args[3] == "nobody") {
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) {
      say("error cannot-drop-privileges");
      return 0;
    }
  }
  const direction dir = args[1] == "r" ? direction::read : direction::write;
  npipe::fifo_end end;
  try {
    end = npipe::open_fifo(args[0], dir, parse_form(args[2]));
  } catch (const npipe::error& e) {
    say(std::string("error ") + npipe::errc_name(e.value()));
    return 0;
  }
  say("opened");
  return command_loop(end);
}

// args: path, "r"|"w", mode (octal). Creates the FIFO as its owner, prints "created", opens its
// own end (forever) and prints "opened", then runs the command loop; on stdin EOF it returns
// normally (the destructor removes the name). Extra commands: "release" releases the name.
NPIPE_TEST_CHILD(fifo_owner) {
  const auto& args = npipe::test::child_args();
  if (args.size() != 3) return 2;
  const direction dir = args[1] == "r" ? direction::read : direction::write;
  npipe::fifo_options opts;
  opts.mode = static_cast<unsigned>(std::stoul(args[2], nullptr, 8));
  npipe::fifo_owner owner;
  try {
    owner = npipe::fifo_owner::create(args[0], dir, opts);
  } catch (const npipe::error& e) {
    say(std::string("error ") + npipe::errc_name(e.value()));
    return 0;
  }
  say("created");
  // Either "open" (then the command loop on the end) or "release" / "exit" before opening.
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line == "release") {
      owner.release();
      say("released");
    } else if (line == "open") {
      npipe::fifo_end end = owner.open();
      say("opened");
      return command_loop(end);
    } else if (line == "exit") {
      return 0;
    }
  }
  return 0;
}

// args: path, record letter, count. Writes `count` records of PIPE_BUF bytes, each one write()
// call filled with the letter, to test atomicity (FIFO-IO-2).
NPIPE_TEST_CHILD(fifo_record_writer) {
  const auto& args = npipe::test::child_args();
  if (args.size() != 3) return 2;
  npipe::fifo_end end = npipe::open_fifo(args[0], direction::write);
  say("opened");
  const std::string record(npipe::fifo_end::pipe_buf(), args[1][0]);
  const int count = std::stoi(args[2]);
  for (int i = 0; i < count; ++i) {
    if (end.write(record.data(), record.size()) != record.size()) return 3;
  }
  return 0;
}

// args: path. With SIGPIPE at its default disposition (which kills), opens the FIFO for writing
// while the parent holds the only reader, waits for "go" (the parent closed its reader), writes,
// and prints what happened. Being killed by SIGPIPE shows up as exit status 128 + 13.
NPIPE_TEST_CHILD(fifo_sigpipe_writer) {
  const auto& args = npipe::test::child_args();
  if (args.size() != 1) return 2;
  signal(SIGPIPE, SIG_DFL);
  npipe::fifo_end end = npipe::open_fifo(args[0], direction::write, deadline::immediate());
  say("opened");
  std::string line;
  if (!std::getline(std::cin, line) || line != "go") return 4;
  try {
    end.write("x", 1);
    say("wrote");
  } catch (const npipe::error& e) {
    say(std::string("error ") + npipe::errc_name(e.value()));
  }
  struct sigaction now {};
  sigaction(SIGPIPE, nullptr, &now);
  sigset_t pending;
  sigpending(&pending);
  say(std::string(now.sa_handler == SIG_DFL ? "dfl" : "changed") + " " +
      (sigismember(&pending, SIGPIPE) ? "pending" : "clear"));
  return 0;
}

#endif  // _WIN32
