// poll(2) until a deadline: see wait.hpp.
#include "posix/wait.hpp"

#include <cerrno>
#include <string>

#include "posix/errors.hpp"

namespace npipe::posix {

short wait_fd(int fd, short events, const deadline& d, const char* what) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, d.remaining_ms());
    if (rc > 0) return p.revents;
    if (rc < 0 && errno != EINTR) throw_errno(errno, std::string("poll: ") + what);
    // rc == 0 before the deadline (rounding, or a wait longer than INT_MAX ms) or EINTR: wait for
    // what is left. An immediate deadline has nothing left.
    if (d.is_immediate() || d.expired()) return 0;
  }
}

}  // namespace npipe::posix
