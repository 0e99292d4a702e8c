// npipe-agent/main.cpp: the reference agent of the driver protocol (spec/driver-protocol.md):
// one command line in, one reply line out, flushed, strictly in order, until bye or stdin EOF.
#include <cstdio>
#include <cstring>
#include <string>

#include "common/console.hpp"
#include "common/idle_child.hpp"
#include "line_reader.hpp"
#include "npipe/error.hpp"
#include "session.hpp"

int main(int argc, char** argv) {
  // The child of the spawn op: idles until its parent closes its stdin.
  if (argc == 2 && std::strcmp(argv[1], "--idle-child") == 0) return npipe::tools::run_idle_child();
  npipe::tools::remember_program_path(argc > 0 ? argv[0] : nullptr);
  // SIGPIPE stays at its default: the library must keep it from killing the agent by itself
  // (FIFO-PIPE-1), and the suite checks that. Only the agent's own stdout writes protect
  // themselves (a driver gone away is broken_pipe, never SIGPIPE).
  npipe::tools::init_console(npipe::tools::sigpipe_policy::leave_default);
  npipe::agent::session session;
  npipe::agent::line_reader input(npipe::tools::read_stdin);
  std::string line;
  bool bye = false;
  try {
    while (!bye) {
      auto got = input.next(line);
      if (got == npipe::agent::line_reader::result::eof) break;
      std::string reply = got == npipe::agent::line_reader::result::line
                              ? session.execute(line, bye)
                              : npipe::agent::protocol_error_reply("line: longer than 64 MiB");
      reply += '\n';
      npipe::tools::write_stdout(reply.data(), reply.size());  // unbuffered: flushed per line
    }
  } catch (const npipe::error& e) {
    // stdin or stdout failed: the driver is gone. Close everything, as at EOF, and say why.
    std::fprintf(stderr, "npipe-agent: %s\n", e.what());
    session.close_all();
    return 1;
  }
  session.close_all();  // owners remove their names, listeners their socket files
  return 0;
}
