// The one poll-until-deadline loop of the POSIX backend: every wait for a descriptor (FIFO data,
// FIFO room, a socket's bytes or room, a client at a listening socket, a writer at a FIFO) is
// this call.
#pragma once

#include <poll.h>

#include "npipe/deadline.hpp"

namespace npipe::posix {

// Waits until `fd` reports one of `events` (POLLIN, POLLOUT; POLLHUP, POLLERR and POLLNVAL are
// always reported) or `d` passes. Returns the revents, or 0 when the deadline passed first. An
// interrupted poll(2) (EINTR) resumes with the time left (ERR-4); a wait longer than INT_MAX ms
// is made of several. Throws npipe::error (io_error) when poll(2) itself fails; `what` names it.
short wait_fd(int fd, short events, const deadline& d, const char* what);

}  // namespace npipe::posix
