// Opening one end of a POSIX FIFO: the type check that can't be raced, and the three forms of open
// (blocking, non-blocking, with a deadline) of spec FIFO-OPEN-1..9.
//
// How a reader waits for a writer with a deadline (there is no poll event for "a writer arrived":
// Linux poll reports nothing for a writer that has not written, torvalds/linux fs/pipe.c pipe_poll;
// spec section 11):
//   1. open O_RDONLY|O_NONBLOCK. This returns at once, proves the type (fstat), and makes us a
//      reader, so writers using non-blocking or deadline opens get in from now on.
//   2. a helper thread does a blocking open O_RDONLY of the same inode; the kernel returns it when
//      a writer opens (it waits for the FIFO's writer counter to change).
//   3. at the deadline, the helper is released by a transient O_WRONLY|O_NONBLOCK open (and close)
//      of the same inode, joined, everything is closed, and timeout is thrown.
// Side effect of 3: the transient writer also wakes every OTHER reader blocked in open() of this
// FIFO at that moment; they return with no writer and read EOF at once. A real writer that opens
// at the very instant of the deadline may be the one that wakes the helper: the decision was made
// first, so the call still times out, closes its reader ends, and that writer then sees no reader
// (broken_pipe on write), exactly as if it had come just after a reader gave up.
#include "posix/fifo_open.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

#include "npipe/error.hpp"
#include "posix/errors.hpp"
#include "posix/wait.hpp"

namespace npipe::posix {

const char* describe_file_type(mode_t mode) noexcept {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "a file of unknown type";
}

namespace {

using std::chrono::milliseconds;

std::string quoted(const std::string& path) {
  return "'" + path + "'";
}

const char* dir_word(direction dir) noexcept {
  return dir == direction::read ? "reading" : "writing";
}

[[noreturn]] void throw_not_a_pipe(const std::string& path, mode_t mode) {
  std::string message = quoted(path) + " is " + describe_file_type(mode) + ", not a FIFO";
  if (S_ISLNK(mode)) message += "; npipe never follows a symbolic link";
  throw error(errc::not_a_pipe, message);
}

[[noreturn]] void throw_open_error(int err, const std::string& path, direction dir) {
  const std::string what = "open FIFO " + quoted(path) + " for " + dir_word(dir);
  // O_NOFOLLOW on a symlink: the path IS a symlink (FIFO-OPEN-8).
  if (err == ELOOP) throw_errno(errc::not_a_pipe, err, what + " (the path is a symbolic link)");
  if (err == EISDIR) throw_errno(errc::not_a_pipe, err, what + " (the path is a directory)");
#if defined(__FreeBSD__) || defined(__DragonFly__)
  // FreeBSD answers O_NOFOLLOW on a symlink with EMLINK, and an open of a socket with EOPNOTSUPP
  // (open(2); spec section 8.3, spec/errors.json open/darwin).
  if (err == EMLINK) throw_errno(errc::not_a_pipe, err, what + " (the path is a symbolic link)");
  if (err == EOPNOTSUPP) throw_errno(errc::not_a_pipe, err, what + " (the path is a socket)");
#endif
  if (err == EINVAL) throw_errno(errc::invalid_name, err, what);
  throw_errno(err, what);
}

// Where the real opens go. On Linux an O_PATH descriptor (which opens nothing: no FIFO counters,
// no device driver, no permission check on the file) pins the inode the name stood for when it was
// checked, and /proc/self/fd/N opens THAT inode, so a rename cannot slip another file in between
// the check and the open. Without O_PATH or /proc, the name is opened again with O_NOFOLLOW and
// every opened descriptor is checked with fstat before it is used.
class fifo_target {
 public:
  fifo_target(const std::string& path, direction dir, const file_identity* expected)
      : path_(path), dir_(dir), open_path_(path), extra_flags_(O_NOFOLLOW) {
    if (expected) {
      identity_ = *expected;
      have_identity_ = true;
    }
#ifdef O_PATH
    int fd;
    do {
      fd = ::open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) throw_open_error(errno, path_, dir_);
    anchor_.reset(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw_errno(errno, "fstat " + quoted(path_));
    check(st);
    // /proc may be missing (some containers, early boot): then fall back to the name.
    const std::string proc_path = "/proc/self/fd/" + std::to_string(fd);
    struct stat proc_st {};
    if (::stat(proc_path.c_str(), &proc_st) == 0 && proc_st.st_dev == st.st_dev &&
        proc_st.st_ino == st.st_ino) {
      open_path_ = proc_path;
      extra_flags_ = 0;  // /proc/self/fd/N is itself a (magic) symlink: it must be followed
      pinned_ = true;
    }
#endif
  }

  const std::string& path() const noexcept {
    return path_;
  }
  direction dir() const noexcept {
    return dir_;
  }
  // True when every open reaches the checked inode, so even a blocking open cannot block on
  // anything but that FIFO.
  bool pinned() const noexcept {
    return pinned_;
  }
  const std::string& open_path() const noexcept {
    return open_path_;
  }
  int extra_flags() const noexcept {
    return extra_flags_;
  }

  // open(2) of the target; the raw result (-1 and errno on failure).
  int open_raw(int flags) const noexcept {
    int fd;
    do {
      fd = ::open(open_path_.c_str(), flags | O_CLOEXEC | extra_flags_);
    } while (fd < 0 && errno == EINTR);
    return fd;
  }

  // Checks an opened descriptor: a FIFO, and the same one as checked before. Records the
  // identity on first use.
  void verify(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw_errno(errno, "fstat " + quoted(path_));
    check(st);
  }

  // Whether this process may open the FIFO for writing (needed to release a waiting helper).
  bool may_write() const noexcept {
    return ::faccessat(AT_FDCWD, open_path_.c_str(), W_OK, AT_EACCESS) == 0;
  }

 private:
  void check(const struct stat& st) {
    if (!S_ISFIFO(st.st_mode)) throw_not_a_pipe(path_, st.st_mode);
    file_identity id{st.st_dev, st.st_ino};
    if (!have_identity_) {
      identity_ = id;
      have_identity_ = true;
    } else if (id != identity_) {
      throw error(errc::not_found, "FIFO " + quoted(path_) +
                                       " is no longer the FIFO it was: the name was removed "
                                       "and made again");
    }
  }

  std::string path_;
  direction dir_;
  std::string open_path_;
  int extra_flags_;
  unique_fd anchor_;
  file_identity identity_{};
  bool have_identity_ = false;
  bool pinned_ = false;
};

// Verifies the descriptor and puts it in blocking mode: the deadline forms of read/write switch
// to non-blocking only for the duration of a call.
unique_fd finish(unique_fd fd, fifo_target& target) {
  target.verify(fd.get());
  int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) < 0) {
    throw_errno(errno, "make FIFO " + quoted(target.path()) + " blocking");
  }
  return fd;
}

[[noreturn]] void throw_timeout(const std::string& path, direction dir, const char* extra = "") {
  const char* peer = dir == direction::read ? "writer" : "reader";
  throw error(errc::timeout, std::string("no ") + peer + " opened FIFO " + quoted(path) +
                                 " before the deadline" + extra);
}

unique_fd open_writer(fifo_target& target, deadline d) {
  if (d.is_forever() && target.pinned()) {
    int fd = target.open_raw(O_WRONLY);
    if (fd < 0) throw_open_error(errno, target.path(), direction::write);
    return finish(unique_fd(fd), target);
  }
  // Non-blocking opens, retried with a short back-off until the deadline. Unlike a helper thread
  // this has no effect on anybody else: ENXIO changes nothing in the FIFO.
  milliseconds backoff{1};
  const milliseconds max_backoff{10};
  for (;;) {
    int fd = target.open_raw(O_WRONLY | O_NONBLOCK);
    if (fd >= 0) return finish(unique_fd(fd), target);
    const int err = errno;
    if (err != ENXIO) throw_open_error(err, target.path(), direction::write);
#ifndef O_PATH
    // Without O_PATH, ENXIO can also come from a socket or a device with nothing behind it.
    struct stat st {};
    if (::lstat(target.path().c_str(), &st) == 0 && !S_ISFIFO(st.st_mode)) {
      throw_not_a_pipe(target.path(), st.st_mode);
    }
#endif
    if (d.is_immediate()) {
      throw make_errno_error(
          errc::would_block, err,
          "no reader has FIFO " + quoted(target.path()) + " open (non-blocking open for writing)");
    }
    const int left = d.remaining_ms();  // -1: forever
    if (left == 0) throw_timeout(target.path(), direction::write);
    std::this_thread::sleep_for(left < 0 ? backoff : std::min(backoff, milliseconds(left)));
    backoff = std::min(backoff * 2, max_backoff);
  }
}

// The reader's wait for a writer when the helper thread cannot be released (we may not open the
// FIFO for writing): only a writer that has written, or has come and gone, can be seen.
unique_fd poll_for_writer(fifo_target& target, unique_fd reader, deadline d) {
  for (;;) {
    const short revents = wait_fd(reader.get(), POLLIN, d, "a FIFO waiting for a writer");
    if (revents == 0) {
      throw_timeout(target.path(), direction::read,
                    " (without write permission on the FIFO, a writer that has not written yet "
                    "cannot be detected)");
    }
    if (revents & (POLLIN | POLLHUP)) return finish(std::move(reader), target);
  }
}

// What the helper thread and the caller share. Held by shared_ptr, so that in the one case where
// the helper cannot be released it can be detached safely; it then closes its own descriptor.
struct helper_state {
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  int fd = -1;
  int err = 0;
  ~helper_state() {
    if (fd >= 0) ::close(fd);
  }
};

unique_fd wait_for_writer(fifo_target& target, unique_fd reader, deadline d) {
  if (!target.may_write()) return poll_for_writer(target, std::move(reader), d);

  // Keeps a descriptor slot free for the release open, so that running out of descriptors in
  // the meantime cannot leave the helper blocked for ever.
  unique_fd reserved_slot(::fcntl(reader.get(), F_DUPFD_CLOEXEC, 0));
  if (!reserved_slot) throw_errno(errno, "reserve a descriptor for FIFO " + quoted(target.path()));

  auto state = std::make_shared<helper_state>();
  std::thread helper;
  try {
    helper = std::thread([state, path = target.open_path(), flags = target.extra_flags()] {
      int fd;
      do {
        fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | flags);
      } while (fd < 0 && errno == EINTR);
      const int err = errno;
      std::lock_guard<std::mutex> lock(state->mutex);
      state->fd = fd;
      state->err = err;
      state->done = true;
      state->done_cv.notify_all();
    });
  } catch (const std::system_error& e) {
    throw error(errc::io_error, "cannot start the thread that waits for a writer of FIFO " +
                                    quoted(target.path()) + ": " + e.what());
  }

  {
    std::unique_lock<std::mutex> lock(state->mutex);
    for (int left; !state->done && (left = d.remaining_ms()) != 0;) {
      state->done_cv.wait_for(lock, milliseconds(left));
    }
    if (state->done) {
      lock.unlock();
      helper.join();
      if (state->fd < 0) throw_open_error(state->err, target.path(), direction::read);
      unique_fd fd(std::exchange(state->fd, -1));
      reader.reset();  // the helper's descriptor keeps us a reader: no gap a writer could see
      return finish(std::move(fd), target);
    }
  }

  // The deadline passed. A writer may have opened, written and closed before the helper's
  // blocking open began; the helper then waits for the NEXT writer. That writer's writes
  // succeeded because our first descriptor made us a reader, and its bytes are in the FIFO:
  // timing out now would silently lose them. Linux reports POLLHUP on a reader once a writer
  // has come and gone since it opened, so then the open did succeed. (Checked before the
  // transient writer below, which would raise POLLHUP itself.) Found by npipe-stress (kill-fifo).
  pollfd seen{reader.get(), POLLIN, 0};
  const bool writer_came_and_went = ::poll(&seen, 1, 0) > 0 && (seen.revents & POLLHUP) != 0;
  reserved_slot.reset();
  const int releaser = target.open_raw(O_WRONLY | O_NONBLOCK);
  if (releaser < 0) {
    const int err = errno;
    helper.detach();
    if (writer_came_and_went) return finish(std::move(reader), target);
    throw_timeout(target.path(), direction::read,
                  (std::string("; the waiting thread could not be released (") + errno_name(err) +
                   ") and stays blocked until a writer opens")
                      .c_str());
  }
  helper.join();
  ::close(releaser);
  // state's destructor closes the helper's descriptor; `reader` closes on return.
  if (writer_came_and_went) return finish(std::move(reader), target);
  throw_timeout(target.path(), direction::read);
}

unique_fd open_reader(fifo_target& target, deadline d) {
  if (d.is_forever() && target.pinned()) {
    int fd = target.open_raw(O_RDONLY);
    if (fd < 0) throw_open_error(errno, target.path(), direction::read);
    return finish(unique_fd(fd), target);
  }
  // A non-blocking read-only open returns at once (POSIX); the type is checked before any wait.
  int first = target.open_raw(O_RDONLY | O_NONBLOCK);
  if (first < 0) throw_open_error(errno, target.path(), direction::read);
  unique_fd reader(first);
  target.verify(reader.get());
  if (d.is_immediate()) return finish(std::move(reader), target);
  if (d.is_forever()) {
    // Not pinned: a blocking open of the name, checked to be the same FIFO afterwards.
    int fd = target.open_raw(O_RDONLY);
    if (fd < 0) throw_open_error(errno, target.path(), direction::read);
    return finish(unique_fd(fd), target);
  }
  return wait_for_writer(target, std::move(reader), d);
}

}  // namespace

unique_fd open_fifo_path(const std::string& path, direction dir, deadline d,
                         const file_identity* expected) {
  fifo_target target(path, dir, expected);
  return dir == direction::read ? open_reader(target, d) : open_writer(target, d);
}

}  // namespace npipe::posix
