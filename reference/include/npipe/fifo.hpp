// npipe/fifo.hpp: the FIFO profile, a one-way byte stream met by name (spec: FIFO-*).
//
//   owner:  auto owner = npipe::fifo_owner::create("jobs", npipe::direction::read);
//           npipe::fifo_end in = owner.open();            // waits for a writer
//   peer:   npipe::fifo_end out = npipe::open_fifo("jobs", npipe::direction::write);
//
// On POSIX the owner makes a FIFO special file (mkfifo) and both sides open it; on Windows the
// owner is the server instance and the peer is its client. What differs between the two is listed
// in the spec as platform-defined, and this API never hides it behind a silent choice.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "npipe/deadline.hpp"
#include "npipe/handle.hpp"

namespace npipe {

enum class direction { read, write };

// An open end of a FIFO. Move-only; closes on destruction.
class fifo_end {
 public:
  fifo_end() noexcept;
  fifo_end(fifo_end&&) noexcept;
  fifo_end& operator=(fifo_end&&) noexcept;
  ~fifo_end();

  bool is_open() const noexcept;
  direction dir() const noexcept;
  native_handle_t native_handle() const noexcept;

  // Reads up to n bytes into buf. Returns 0 at EOF: every writer has closed and the buffer is
  // drained (FIFO-EOF-*). Waits for data until `d`: timeout, or would_block for immediate.
  std::size_t read(void* buf, std::size_t n, deadline d = deadline::forever());

  // Writes up to n bytes and returns how many were written: all n unless the deadline passed
  // after some were written. A write of at most pipe_buf() bytes is all-or-nothing and is never
  // interleaved with other writers (FIFO-IO-2). No reader left: errc::broken_pipe, never a signal.
  std::size_t write(const void* buf, std::size_t n, deadline d = deadline::forever());

  // Writes all n bytes, however many calls it takes.
  void write_all(const void* buf, std::size_t n);

  // Closes the end. Idempotent.
  void close() noexcept;

  // The atomic write size of this platform (PIPE_BUF on POSIX).
  static std::size_t pipe_buf() noexcept;

  struct impl;
  explicit fifo_end(std::unique_ptr<impl> p) noexcept;

 private:
  std::unique_ptr<impl> impl_;
};

struct fifo_options {
  // Permission bits of the FIFO on POSIX, applied exactly, whatever the umask (FIFO-CREATE-2).
  // On Windows 0600 means a DACL that admits only the current user.
  unsigned mode = 0600;
  // Adopt a FIFO that already exists at the path (made by Python's os.mkfifo, by mkfifo(1) or left
  // by an owner that died) instead of failing with already_exists. Only a real FIFO is adopted:
  // anything else gives not_a_pipe (FIFO-CREATE-4). Only a FIFO owned by this process's
  // effective user is adopted; one owned by another user gives permission_denied and is left
  // untouched (FIFO-SEC-6). Its mode is left as it is: a wide one (0644 from os.mkfifo) is fine.
  // Has no meaning on Windows: unsupported.
  bool adopt_existing = false;
  // With adopt_existing: also adopt a FIFO owned by another user (root included). That user made
  // the name and keeps full control of it: it can read what the owner's peers write, write into
  // what the owner reads, chmod it open to everyone, or remove it. Set it only when that user is
  // trusted, for example a service account that hands FIFOs over on purpose (FIFO-SEC-6).
  // Ignored on Windows, where adopt is unsupported.
  bool adopt_foreign_owner = false;
  // Linux: the capacity of the pipe buffer (FIFO-IO-7), set with F_SETPIPE_SZ when the owner
  // opens its end; the kernel rounds it up to a power-of-two number of pages. 0 keeps the system's
  // default (64 KiB). A larger buffer means fewer sleeps and wake-ups for a fast writer: about 1.3x
  // the throughput of 64 KiB writes on the bench machine with 1 MiB. Beyond
  // /proc/sys/fs/pipe-max-size (1 MiB by default) an unprivileged owner's open() fails with
  // permission_denied. Ignored where the platform has no such control (macOS, the BSDs, Windows).
  std::size_t pipe_size = 0;
};

// The owner of a FIFO's name. Move-only. Removes the name on destruction unless release()d.
class fifo_owner {
 public:
  // Creates the name. The owner's own end will be `dir`. Throws already_exists when the name is
  // taken (FIFO-CREATE-3), invalid_name, permission_denied, not_a_pipe (adopt of a non-FIFO).
  static fifo_owner create(std::string_view name, direction dir, const fifo_options& opts = {});

  fifo_owner() noexcept;
  fifo_owner(fifo_owner&&) noexcept;
  fifo_owner& operator=(fifo_owner&&) noexcept;
  ~fifo_owner();

  // The platform name (path or \\.\pipe\ name).
  const std::string& path() const noexcept;
  direction dir() const noexcept;

  // Opens the owner's end, waiting for a peer until `d` (FIFO-OPEN-*).
  fifo_end open(deadline d = deadline::forever());

  // Removes the name if it is still the one this owner made; ends already open keep working and
  // a later open by name gets not_found (FIFO-REMOVE-*). Idempotent.
  void remove();

  // Gives the name up without removing it: it outlives this object (POSIX) (FIFO-LIFE-*).
  void release() noexcept;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

// Opens an end of an existing FIFO by name, as its peer, waiting for the other side until `d`.
// not_found when there is no such name; not_a_pipe when the path is anything but a FIFO,
// symlinks included, and then nothing was blocked on, truncated or written (FIFO-OPEN-7, -8).
fifo_end open_fifo(std::string_view name, direction dir, deadline d = deadline::forever());

}  // namespace npipe
