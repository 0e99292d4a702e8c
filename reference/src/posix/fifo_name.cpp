// The POSIX FIFO backend's names: creating, adopting, opening and removing a FIFO special file
// (spec FIFO-CREATE-*, FIFO-OPEN-*, FIFO-REMOVE-*, FIFO-LIFE-*, FIFO-SEC-6), and the peer's open.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <string>

#include "common/backend.hpp"
#include "npipe/error.hpp"
#include "posix/errors.hpp"
#include "posix/fifo_open.hpp"
#include "posix/fifo_stream.hpp"

namespace npipe::posix {
namespace {

constexpr unsigned kPermissionBits = 0777;

std::string quoted(const std::string& path) {
  return "'" + path + "'";
}

[[noreturn]] void throw_create_error(int err, const std::string& path) {
  const std::string what = "create FIFO " + quoted(path);
  // From mkfifo, both mean the name cannot be resolved as given.
  if (err == EINVAL || err == ELOOP) throw_errno(errc::invalid_name, err, what);
  // From mkfifo, EPERM is a file system that cannot hold a FIFO (mknod(2); Linux sysfs, devpts),
  // not a permission: spec/errors.json create/posix/EPERM.
  if (err == EPERM) throw_errno(errc::unsupported, err, what + ": the file system has no FIFOs");
  throw_errno(err, what);
}

// The FIFO at `path`, checked to be one, with its identity. On Linux an O_PATH descriptor of it
// is kept for the owner's lifetime: while it is held the inode cannot be freed, so its number
// cannot be reused by a FIFO made later at the same path. (tmpfs and ext4 hand a freed inode
// number straight to the next file: without the pin, remove() could not tell our FIFO from a
// newcomer.) O_PATH opens nothing: the FIFO sees no reader or writer.
struct pinned_fifo {
  unique_fd anchor;
  file_identity identity;
  uid_t owner_uid = 0;  // st_uid of the pinned inode (FIFO-SEC-6)
};

pinned_fifo pin_fifo(const std::string& path, const std::string& action) {
  pinned_fifo pin;
  struct stat st {};
#ifdef O_PATH
  pin.anchor.reset(::open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!pin.anchor) throw_create_error(errno, path);
  if (::fstat(pin.anchor.get(), &st) != 0) throw_errno(errno, "fstat " + quoted(path));
#else
  if (::lstat(path.c_str(), &st) != 0) throw_create_error(errno, path);
#endif
  if (!S_ISFIFO(st.st_mode)) {
    throw error(errc::not_a_pipe, action + " " + quoted(path) + ": it is " +
                                      describe_file_type(st.st_mode) +
                                      ", not a FIFO; it was left untouched");
  }
  pin.identity = {st.st_dev, st.st_ino};
  pin.owner_uid = st.st_uid;
  return pin;
}

// Adopt takes over only a FIFO of this process's effective user, unless told otherwise
// (FIFO-SEC-6). `pin` is the very inode adopted (on Linux st_uid comes from the fstat of its
// O_PATH descriptor, so no rename can swap it after the check), and its owner cannot change
// afterwards without CAP_CHOWN. Nothing was opened: the caller drops the pin, the FIFO is left
// as it was.
void check_adopted_owner(const pinned_fifo& pin, const std::string& path,
                         const fifo_options& opts) {
  const uid_t self = ::geteuid();
  if (pin.owner_uid == self || opts.adopt_foreign_owner) return;
  throw error(errc::permission_denied,
              "adopt FIFO " + quoted(path) + ": it is owned by uid " +
                  std::to_string(pin.owner_uid) + ", not by this user (uid " +
                  std::to_string(self) +
                  "); it was left untouched (set fifo_options::adopt_foreign_owner to adopt a "
                  "FIFO of another user)");
}

// Applies `mode` to the FIFO we just made, exactly. mkfifo gave it mode & ~umask, a subset of
// `mode`, so during the short window before this the FIFO never has more permissions than asked.
void apply_exact_mode(const pinned_fifo& pin, const std::string& path, unsigned mode) {
#ifdef O_PATH
  // chmod of the very inode through /proc (fchmod does not take O_PATH descriptors): a rename of
  // the path in the window cannot redirect it to another file.
  const std::string proc_path = "/proc/self/fd/" + std::to_string(pin.anchor.get());
  if (::chmod(proc_path.c_str(), mode) == 0) return;
#else
  (void)pin;
#endif
  // No /proc: by name, without following a symlink.
  if (::fchmodat(AT_FDCWD, path.c_str(), mode, AT_SYMLINK_NOFOLLOW) != 0) {
    throw_errno(errno, "set mode of FIFO " + quoted(path));
  }
}

// Unlinks `path` only while it is still the FIFO `id`. The lstat-then-unlink pair is not atomic
// (POSIX has no unlink-if-inode): a rename in between could make us unlink the newcomer. Only
// someone with write access to the directory can do that, and they could unlink it themselves.
// Returns false when the path was already gone or is now something else.
bool unlink_if_same(const std::string& path, const file_identity& id) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return false;
    throw_errno(errno, "remove FIFO " + quoted(path));
  }
  if (!S_ISFIFO(st.st_mode) || file_identity{st.st_dev, st.st_ino} != id) return false;
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return false;
    throw_errno(errno, "remove FIFO " + quoted(path));
  }
  return true;
}

// The name an owner made or adopted, pinned (Linux) for the owner's lifetime.
class fifo_file final : public backend::fifo_name {
 public:
  fifo_file(std::string path, direction dir, pinned_fifo pin, std::size_t pipe_size)
      : path_(std::move(path)),
        dir_(dir),
        identity_(pin.identity),
        anchor_(std::move(pin.anchor)),
        pipe_size_(pipe_size) {}

  std::unique_ptr<backend::fifo_stream> open(deadline d, io_mode mode) override {
    if (removed_) {
      throw error(errc::not_found, "open FIFO " + quoted(path_) + ": this owner removed it");
    }
    unique_fd fd = open_fifo_path(path_, dir_, d, &identity_);
#ifdef F_SETPIPE_SZ
    if (pipe_size_ > 0) {
      const int size = static_cast<int>(std::min<std::size_t>(pipe_size_, INT_MAX));
      if (::fcntl(fd.get(), F_SETPIPE_SZ, size) < 0) {
        throw_errno(errno, "set the buffer of FIFO " + quoted(path_) + " to " +
                               std::to_string(pipe_size_) + " bytes (F_SETPIPE_SZ)");
      }
    }
#endif
    set_mode(fd.get(), mode, "set the mode of a FIFO end");
    return make_fifo_stream(std::move(fd), dir_, mode);
  }

  void remove() override {
    if (!owns_name_) return;
    unlink_if_same(path_, identity_);
    owns_name_ = false;
    removed_ = true;
    anchor_.reset();
  }

  void release() noexcept override {
    // The owner still opens its end by name, checked against the identity recorded at creation;
    // the pin is kept so that identity stays unambiguous.
    owns_name_ = false;
  }

 private:
  std::string path_;
  direction dir_;
  file_identity identity_;
  unique_fd anchor_;  // see pin_fifo()
  std::size_t pipe_size_ = 0;
  bool owns_name_ = true;  // false once removed or released
  bool removed_ = false;
};

}  // namespace

std::unique_ptr<backend::fifo_name> create(const std::string& path, direction dir,
                                           const fifo_options& opts) {
  if ((opts.mode & ~kPermissionBits) != 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0%o", opts.mode);
    throw error(errc::unsupported, std::string("create FIFO ") + quoted(path) + ": mode " + buf +
                                       " has bits outside the permission bits 0777");
  }

  // A race with another process removing the path between our mkfifo and lstat is retried a
  // few times; a path that keeps changing is reported.
  for (int attempt = 0;; ++attempt) {
    if (::mkfifo(path.c_str(), static_cast<mode_t>(opts.mode)) == 0) {
      // If the path was replaced between mkfifo and here, pin_fifo throws and the newcomer is
      // left alone: we cannot tell that it is not ours.
      pinned_fifo pin;
      try {
        pin = pin_fifo(path, "create FIFO");
      } catch (const error& e) {
        // The pin (an O_PATH open) also fails when descriptors run out (EMFILE, ENFILE): the
        // FIFO we just made must not stay behind (ERR-5). A path that is no longer a FIFO
        // (not_a_pipe) was replaced and is left alone. Found by npipe-stress (rlimit).
        struct stat st {};
        if (e.value() != errc::not_a_pipe && ::lstat(path.c_str(), &st) == 0 &&
            S_ISFIFO(st.st_mode)) {
          ::unlink(path.c_str());
        }
        throw;
      }
      try {
        apply_exact_mode(pin, path, opts.mode);
      } catch (...) {
        try {
          unlink_if_same(path, pin.identity);  // no half-made FIFO left behind
        } catch (...) {
        }
        throw;
      }
      return std::make_unique<fifo_file>(path, dir, std::move(pin), opts.pipe_size);
    }
    const int err = errno;
    if (err != EEXIST) throw_create_error(err, path);
    // The name exists: a FIFO, any other file, or a symlink (dangling or not: mkfifo does not
    // follow it). Without adopt it is left untouched (FIFO-CREATE-3).
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT && attempt < 3) continue;  // removed meanwhile: try again
      throw_errno(errno, "lstat " + quoted(path));
    }
    if (!opts.adopt_existing) {
      throw make_errno_error(errc::already_exists, err,
                             "create FIFO " + quoted(path) + ": the name exists (" +
                                 describe_file_type(st.st_mode) + ") and was left untouched");
    }
    // Adopted as it is: its mode is its creator's choice and is not changed (FIFO-CREATE-4);
    // but only when its creator is this user, unless asked (FIFO-SEC-6).
    pinned_fifo pin = pin_fifo(path, "adopt FIFO");
    check_adopted_owner(pin, path, opts);
    return std::make_unique<fifo_file>(path, dir, std::move(pin), opts.pipe_size);
  }
}

}  // namespace npipe::posix

namespace npipe::backend {

std::unique_ptr<fifo_name> create_fifo(const std::string& path, direction dir,
                                       const fifo_options& opts) {
  return posix::create(path, dir, opts);
}

std::unique_ptr<fifo_stream> open_fifo(const std::string& path, direction dir, deadline d,
                                       io_mode mode) {
  posix::unique_fd fd = posix::open_fifo_path(path, dir, d);
  posix::set_mode(fd.get(), mode, "set the mode of a FIFO end");
  return posix::make_fifo_stream(std::move(fd), dir, mode);
}

}  // namespace npipe::backend
