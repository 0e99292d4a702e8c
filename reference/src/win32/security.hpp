// The security descriptor of npipe's pipe instances (spec FIFO-SEC-2).
//
// Windows' default DACL for a named pipe grants Everyone read access ("Named Pipe Security and
// Access Rights", spec section 13). npipe instead builds a DACL from the POSIX-style mode of the
// options:
//   - the owner class (mode & 0700) -> an ACE for the current user, the SID of the process token's
//     TokenUser. That ACE always carries what the creating process needs for itself (creating
//     further instances, reading and changing the DACL); read/write access by name follows the
//     r and w bits.
//   - the group and other classes (mode & 0077) -> one ACE for Everyone (S-1-1-0) with read
//     access if any of their r bits is set and write access if any w bit is. Windows has no
//     POSIX group for a pipe, so the two classes cannot be told apart.
// The default 0600 therefore admits only the current user. Whatever the mode, no ACE but the
// current user's carries FILE_CREATE_PIPE_INSTANCE (= FILE_APPEND_DATA, part of
// FILE_GENERIC_WRITE): another user who could add instances under the name would receive some of
// the listener's clients (FIFO-SEC-2). A client of another user must therefore ask for
// FILE_WRITE_DATA rather than GENERIC_WRITE (CPython's PipeClient asks for GENERIC_WRITE and is
// refused): npipe's clients do (pipe_io.hpp, client_access).
#pragma once

#include <windows.h>

#include <vector>

namespace npipe::win32 {

class pipe_security {
 public:
  // Throws npipe::error (io_error, permission_denied) when the token or the DACL cannot be
  // read/built.
  explicit pipe_security(unsigned mode);
  pipe_security(const pipe_security&) = delete;
  pipe_security& operator=(const pipe_security&) = delete;

  SECURITY_ATTRIBUTES* attributes() noexcept { return &sa_; }

 private:
  std::vector<unsigned char> user_;  // the TOKEN_USER buffer (holds the SID)
  std::vector<unsigned char> everyone_;
  std::vector<unsigned char> acl_;
  SECURITY_DESCRIPTOR sd_{};
  SECURITY_ATTRIBUTES sa_{};
};

// The SID of the current process's user (a copy of the TokenUser SID).
std::vector<unsigned char> current_user_sid();

}  // namespace npipe::win32
