// common/idle_child.hpp: a child process that does nothing, started the platform's ordinary way,
// for the agent's `spawn` op (spec/driver-protocol.md section 5.4). It inherits exactly what the
// library left inheritable, so a peer that still sees EOF while it lives shows that the library's
// descriptors and handles are close-on-exec / not inheritable (FIFO-EOF-4, CHAN-EOF-4).
#pragma once

#include <memory>

namespace npipe::tools {

class idle_child {
 public:
  // POSIX: posix_spawn of this program with "--idle-child" (no descriptor closed: only
  // close-on-exec ones stay behind); Windows: CreateProcess with bInheritHandles TRUE. Its stdin
  // is a pipe this process holds, so it also ends when this process dies. Throws npipe::error.
  static idle_child start();
  idle_child() noexcept;
  idle_child(idle_child&&) noexcept;
  idle_child& operator=(idle_child&&) noexcept;
  ~idle_child();
  // Ends the child and waits for it (idempotent).
  void stop() noexcept;
  long pid() const noexcept;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

// What `npipe-agent --idle-child` runs: waits for EOF on stdin, then returns the exit status 0.
int run_idle_child();

// Called first in main() with argv[0], where the program cannot find its own path otherwise.
void remember_program_path(const char* argv0);

}  // namespace npipe::tools
