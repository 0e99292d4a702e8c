// npipe/fifo.hpp: the FIFO profile, a one-way byte stream met by name (spec: FIFO-*).
//
//   owner:  auto owner = npipe::fifo_owner::create("jobs", npipe::direction::read);
//           npipe::fifo_end in = owner.open();            // waits for a writer
//   peer:   npipe::fifo_end out = npipe::open_fifo("jobs", npipe::direction::write);
//
// On POSIX the owner makes a FIFO special file (mkfifo) and both sides open it; on Windows the
// owner is the server instance and the peer is its client. What differs between the two is listed
// in the spec as platform-defined, and this API never hides it behind a silent choice.
//
// Every call that can fail has a throwing form and a noexcept form with a trailing
// std::error_code& (npipe/error.hpp). Objects are not thread-safe: one object is used by one
// thread at a time; close() from another thread while a call is under way is a data race, not a
// way to cancel it (use a deadline).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "npipe/deadline.hpp"
#include "npipe/handle.hpp"

namespace npipe {

enum class direction { read, write };

// How an end's descriptor behaves between calls: what code that is handed native_handle() sees.
// Chosen when the end is opened and never changed by a call afterwards: no call sets or clears
// O_NONBLOCK on the end's file description, which other threads or processes may share.
//   blocking:    POSIX: O_NONBLOCK is clear. A call with deadline::forever() waits in the kernel
//                (one read(2)/write(2)). A call with any other deadline uses a second,
//                non-blocking description of the same FIFO that the end opens on first need
//                (Linux: open(2) of /proc/self/fd/N) and keeps while it is open: the FIFO then
//                counts one more reader or writer, which changes nothing anyone can see while the
//                end is open. Where there is no such description (no /proc: macOS, the BSDs; a
//                writer whose reader has left), the call waits for readiness with poll(2) and then
//                moves only what cannot block: a read takes what is there; a write puts at most
//                what the pipe has room for (PIPE_BUF bytes per wait). Races that fallback cannot
//                close: another reader may take the data between the poll and the read, which then
//                waits past the deadline; and a reader that has never had a writer is not reported
//                readable, so it waits for its deadline instead of reading end of file at once.
//   nonblocking: POSIX: O_NONBLOCK is set for the end's whole life; every call tries first and
//                then waits with poll(2) for what its deadline allows. For event loops: wait for
//                native_handle() with poll/epoll/kqueue, then call with deadline::immediate().
// Windows: ends are always overlapped pipe handles; the mode changes nothing there.
enum class io_mode { blocking, nonblocking };

// An open end of a FIFO. Move-only; closes on destruction.
class fifo_end {
 public:
  fifo_end() noexcept;
  fifo_end(fifo_end&&) noexcept;
  fifo_end& operator=(fifo_end&&) noexcept;
  ~fifo_end();

  // Adopts an open FIFO end the caller owns, as libuv's uv_pipe_open does; the end then owns it
  // (and closes it) whatever happens. POSIX: a descriptor of a FIFO (fstat: S_ISFIFO, else
  // not_a_pipe) open for `dir` (fcntl F_GETFL, else io_error); its O_NONBLOCK is set or cleared
  // once, here, to match `mode`. Windows: a byte-mode pipe handle opened for overlapped I/O
  // (GetFileType and GetNamedPipeInfo, else not_a_pipe). The name it came from is unknown:
  // messages say "adopted".
  static fifo_end from_native(native_handle_t h, direction dir, io_mode mode = io_mode::blocking);
  static fifo_end from_native(native_handle_t h, direction dir, io_mode mode,
                              std::error_code& ec) noexcept;

  bool is_open() const noexcept;
  direction dir() const noexcept;
  io_mode mode() const noexcept;
  // The descriptor (POSIX) or HANDLE (Windows); -1 / INVALID_HANDLE_VALUE when closed. Still
  // owned by the end. POSIX: readable/writable as poll(2) reports it for a pipe (see io_mode).
  native_handle_t native_handle() const noexcept;
  // Gives the descriptor or handle to the caller without closing it; the end is then closed.
  native_handle_t release() noexcept;

  // Reads up to n bytes into buf. Returns 0 at EOF: every writer has closed and the buffer is
  // drained (FIFO-EOF-*). Waits for data until `d`: timeout, or would_block for immediate.
  // POSIX: read(2), with poll(2) as the mode says; Windows: an overlapped ReadFile, cancelled with
  // CancelIoEx at the deadline (PeekNamedPipe first for the immediate form).
  std::size_t read(void* buf, std::size_t n, deadline d = deadline::forever());
  // Returns the count (0 with ec clear at EOF; 0 with ec set on failure).
  std::size_t read(void* buf, std::size_t n, deadline d, std::error_code& ec) noexcept;

  // Writes up to n bytes and returns how many were written: all n, unless the deadline passed
  // after some were written. Throws when the deadline passed before any byte, and on any failure
  // (broken_pipe when the reader left, even after some bytes: the error_code form tells both the
  // count and the error). A write of at most pipe_buf() bytes is all-or-nothing and is
  // never interleaved with other writers (FIFO-IO-2). No reader left: broken_pipe, never a signal
  // (POSIX: SIGPIPE is blocked in the calling thread for the write(2) and a SIGPIPE it raised is
  // consumed; one another thread or process sends to this thread at that very moment is consumed
  // too, which cannot be told apart). Windows: overlapped WriteFile, in slices of the pipe's
  // buffer size when a deadline is given (a cancelled WriteFile reports nothing written).
  std::size_t write(const void* buf, std::size_t n, deadline d = deadline::forever());
  // Returns the count written; ec is set whenever it is less than n, with the reason.
  std::size_t write(const void* buf, std::size_t n, deadline d, std::error_code& ec) noexcept;

  // Writes all n bytes, however many calls it takes, waiting as long as it takes.
  void write_all(const void* buf, std::size_t n);
  // Writes all n bytes before `d`, however many calls it takes; returns the count written, which
  // is less than n only when the deadline passed first. The throwing form throws as write()
  // does; the error_code form returns the count written and sets ec whenever it is less than n.
  std::size_t write_all(const void* buf, std::size_t n, deadline d);
  std::size_t write_all(const void* buf, std::size_t n, deadline d, std::error_code& ec) noexcept;

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
  // On Windows 0600 means a DACL that admits only the current user; any group/other bit admits
  // Everyone for reading or writing, never for creating instances of the name (FIFO-SEC-2).
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
  // The mode of the ends the owner's open() returns.
  io_mode mode_of_ends = io_mode::blocking;
};

// The owner of a FIFO's name. Move-only. Removes the name on destruction unless release()d.
class fifo_owner {
 public:
  // Creates the name. The owner's own end will be `dir`. already_exists when the name is taken
  // (FIFO-CREATE-3), invalid_name, permission_denied, not_a_pipe (adopt of a non-FIFO).
  // POSIX: mkfifo(2), then (Linux) an O_PATH descriptor that pins the inode for the owner's
  // lifetime and chmod of /proc/self/fd/N for the exact mode; elsewhere lstat and
  // fchmodat(AT_SYMLINK_NOFOLLOW). Windows: CreateNamedPipe with FILE_FLAG_FIRST_PIPE_INSTANCE
  // and the DACL of the mode, one instance.
  static fifo_owner create(std::string_view name, direction dir, const fifo_options& opts = {});
  // Returns an empty owner on failure.
  static fifo_owner create(std::string_view name, direction dir, const fifo_options& opts,
                           std::error_code& ec) noexcept;

  fifo_owner() noexcept;
  fifo_owner(fifo_owner&&) noexcept;
  fifo_owner& operator=(fifo_owner&&) noexcept;
  ~fifo_owner();

  // The platform name (path or \\.\pipe\ name).
  const std::string& path() const noexcept;
  direction dir() const noexcept;

  // Opens the owner's end, waiting for a peer until `d` (FIFO-OPEN-*). POSIX: open(2) of the
  // pinned inode (a reader with a deadline waits in a helper thread's blocking open, released at
  // the deadline by a transient writer open: other readers blocked in open() of the same FIFO at
  // that instant wake too, and see no writer). Windows: overlapped ConnectNamedPipe, cancelled at
  // the deadline.
  fifo_end open(deadline d = deadline::forever());
  // Returns a closed end on failure.
  fifo_end open(deadline d, std::error_code& ec) noexcept;

  // Removes the name if it is still the one this owner made; ends already open keep working and
  // a later open by name gets not_found (FIFO-REMOVE-*). Idempotent. POSIX: lstat then unlink:
  // the two are not atomic, so a rename of another FIFO into the path in between is removed
  // instead (only someone who may write the directory can do that).
  void remove();
  void remove(std::error_code& ec) noexcept;

  // Gives the name up without removing it: it outlives this object (POSIX) (FIFO-LIFE-*).
  void release() noexcept;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

// Opens an end of an existing FIFO by name, as its peer, waiting for the other side until `d`.
// not_found when there is no such name; not_a_pipe when the path is anything but a FIFO,
// symlinks included, and then nothing was blocked on, truncated or written (FIFO-OPEN-7, -8).
// POSIX: an O_PATH|O_NOFOLLOW descriptor checked with fstat, then open(2) of that inode through
// /proc/self/fd (elsewhere open(O_NOFOLLOW) then fstat); a writer with a deadline retries a
// non-blocking open (ENXIO) with a back-off of 1 to 10 ms. Windows: CreateFile, with
// WaitNamedPipe while every instance is busy.
fifo_end open_fifo(std::string_view name, direction dir, deadline d = deadline::forever(),
                   io_mode mode = io_mode::blocking);
// Return a closed end on failure.
fifo_end open_fifo(std::string_view name, direction dir, deadline d, std::error_code& ec) noexcept;
fifo_end open_fifo(std::string_view name, direction dir, deadline d, io_mode mode,
                   std::error_code& ec) noexcept;

}  // namespace npipe
