// POSIX errno -> npipe::errc, errno names, and the npipe::error built from them.
#include "posix/errors.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

namespace npipe::posix {
namespace {

struct errno_entry {
  int value;
  const char* name;
  errc code;
};

// Every errno that open/mkfifo/unlink/lstat/read/write/poll/socket/bind/listen/accept/connect/
// send/recv can give. Aliases (EWOULDBLOCK == EAGAIN, ENOTSUP == EOPNOTSUPP on Linux) are
// listed after their primary name, so the lookup finds the primary name first.
#define NPIPE_ERRNO(e, c) \
  { e, #e, errc::c }
const errno_entry kTable[] = {
    // The name does not exist (or a component is missing / is not a directory).
    NPIPE_ERRNO(ENOENT, not_found),
    NPIPE_ERRNO(ENOTDIR, not_found),
    // Connect to a socket file nobody listens on: nobody is there, as Python's
    // ConnectionRefusedError / FileNotFoundError both mean for a client.
    NPIPE_ERRNO(ECONNREFUSED, not_found),
    NPIPE_ERRNO(EEXIST, already_exists),
    NPIPE_ERRNO(EADDRINUSE, already_exists),
    NPIPE_ERRNO(ETIMEDOUT, timeout),
    // ENXIO: open(O_WRONLY|O_NONBLOCK) of a FIFO with no reader (the common case for FIFOs). For a
    // device node with no device behind it the caller must not let it come this far (FIFO-OPEN-8).
    NPIPE_ERRNO(ENXIO, would_block),
    NPIPE_ERRNO(EAGAIN, would_block),
#if EWOULDBLOCK != EAGAIN
    NPIPE_ERRNO(EWOULDBLOCK, would_block),
#endif
    NPIPE_ERRNO(EINPROGRESS, would_block),
    NPIPE_ERRNO(EALREADY, would_block),
    NPIPE_ERRNO(EPIPE, broken_pipe),
    NPIPE_ERRNO(ECONNRESET, broken_pipe),
    NPIPE_ERRNO(ECONNABORTED, broken_pipe),
    NPIPE_ERRNO(ENOTCONN, broken_pipe),
    NPIPE_ERRNO(ESHUTDOWN, broken_pipe),
    // The path is something other than what was asked for.
    NPIPE_ERRNO(EISDIR, not_a_pipe),
    NPIPE_ERRNO(ENOTSOCK, not_a_pipe),
    NPIPE_ERRNO(EPROTOTYPE, not_a_pipe),
    NPIPE_ERRNO(EACCES, permission_denied),
    NPIPE_ERRNO(EPERM, permission_denied),
    NPIPE_ERRNO(EROFS, permission_denied),
    NPIPE_ERRNO(ENAMETOOLONG, invalid_name),
    // Out of context, ELOOP is "too many levels of symlinks" while resolving the name. From an
    // O_NOFOLLOW open the caller maps it to not_a_pipe itself.
    NPIPE_ERRNO(ELOOP, invalid_name),
    NPIPE_ERRNO(EMSGSIZE, message_too_long),
    NPIPE_ERRNO(EOPNOTSUPP, unsupported),
#if defined(ENOTSUP) && ENOTSUP != EOPNOTSUPP
    NPIPE_ERRNO(ENOTSUP, unsupported),
#endif
    NPIPE_ERRNO(ENOSYS, unsupported),
    NPIPE_ERRNO(EAFNOSUPPORT, unsupported),
    NPIPE_ERRNO(EPROTONOSUPPORT, unsupported),
    // Everything below is io_error, listed only so that messages carry the symbolic name.
    // EINVAL is io_error out of context: callers that pass a name map it to invalid_name.
    NPIPE_ERRNO(EINVAL, io_error),
    NPIPE_ERRNO(EINTR, io_error),
    NPIPE_ERRNO(EBADF, io_error),
    NPIPE_ERRNO(EFAULT, io_error),
    NPIPE_ERRNO(EIO, io_error),
    NPIPE_ERRNO(EMFILE, io_error),
    NPIPE_ERRNO(ENFILE, io_error),
    NPIPE_ERRNO(ENOMEM, io_error),
    NPIPE_ERRNO(ENOBUFS, io_error),
    NPIPE_ERRNO(ENOSPC, io_error),
    NPIPE_ERRNO(EDQUOT, io_error),
    NPIPE_ERRNO(EBUSY, io_error),
    NPIPE_ERRNO(ETXTBSY, io_error),
    NPIPE_ERRNO(ENODEV, io_error),
    NPIPE_ERRNO(EOVERFLOW, io_error),
    NPIPE_ERRNO(EFBIG, io_error),
    NPIPE_ERRNO(EDESTADDRREQ, io_error),
    NPIPE_ERRNO(EISCONN, io_error),
    NPIPE_ERRNO(EADDRNOTAVAIL, io_error),
    NPIPE_ERRNO(ENETDOWN, io_error),
    NPIPE_ERRNO(ENETUNREACH, io_error),
    NPIPE_ERRNO(EHOSTUNREACH, io_error),
    NPIPE_ERRNO(ENOPROTOOPT, io_error),
    NPIPE_ERRNO(ESPIPE, io_error),
    NPIPE_ERRNO(EXDEV, io_error),
    NPIPE_ERRNO(EMLINK, io_error),
    NPIPE_ERRNO(ENOTEMPTY, io_error),
};
#undef NPIPE_ERRNO

const errno_entry* find(int err) noexcept {
  for (const auto& e : kTable) {
    if (e.value == err) return &e;
  }
  return nullptr;
}

std::string describe(int err) {
  // strerror is not thread-safe everywhere; strerror_r has two incompatible signatures, and
  // this overload pair picks whichever the C library declares.
  char buf[256] = {};
  struct pick {
    static const char* result(int rc, const char* b) { return rc == 0 ? b : "unknown error"; }
    static const char* result(const char* s, const char*) { return s; }
  };
  return pick::result(strerror_r(err, buf, sizeof buf), buf);
}

}  // namespace

errc errc_from_errno(int err) noexcept {
  const errno_entry* e = find(err);
  return e ? e->code : errc::io_error;
}

const char* errno_name(int err) noexcept {
  const errno_entry* e = find(err);
  return e ? e->name : "";
}

npipe::error make_errno_error(errc code, int err, const std::string& what) {
  std::string message = what + ": " + describe(err);
  const char* name = errno_name(err);
  if (*name != '\0') {
    message += " (";
    message += name;
    message += ")";
  } else {
    message += " (errno " + std::to_string(err) + ")";
  }
  return npipe::error(code, message, err, name);
}

npipe::error make_errno_error(int err, const std::string& what) {
  return make_errno_error(errc_from_errno(err), err, what);
}

void throw_errno(int err, const std::string& what) {
  throw make_errno_error(err, what);
}

void throw_errno(errc code, int err, const std::string& what) {
  throw make_errno_error(code, err, what);
}

}  // namespace npipe::posix
