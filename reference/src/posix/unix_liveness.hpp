// Asks the kernel, without connecting, whether some socket listens on a given socket file.
//
// A connect(2) probe would answer too, but a successful one is a client that the live listener
// then accepts and sees leave at once: for a CPython listener with an authkey that makes
// Listener.accept() raise. CHAN-LISTEN-2 says a live listener must not be disturbed, so on Linux
// we look it up in the kernel's socket table instead (sock_diag, UDIAG_SHOW_VFS gives the
// device and inode of each bound socket's file).
#pragma once

#include <sys/stat.h>

namespace npipe::posix {

enum class listener_lookup {
  listening,      // a listening socket in this network namespace is bound to this file
  not_listening,  // none in this network namespace (one in another namespace stays possible)
  unknown,        // the platform cannot tell (not Linux, or sock_diag unavailable)
};

// `file` is the lstat() of the socket file.
listener_lookup lookup_listener(const struct stat& file) noexcept;

}  // namespace npipe::posix
