// The FIFO profile on Windows (spec FIFO-*; W1..W10): the owner is a byte-mode server instance,
// the peer its client.
//
//  - create: CreateNamedPipe(PIPE_ACCESS_INBOUND (owner reads) or PIPE_ACCESS_OUTBOUND (owner
//    writes) | FILE_FLAG_FIRST_PIPE_INSTANCE | FILE_FLAG_OVERLAPPED, PIPE_TYPE_BYTE |
//    PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS, one instance) with the DACL of
//    win32/security.hpp. The name exists from here on: a live name (any instance, any process)
//    gives already_exists (FIFO-CREATE-3, FIFO-SEC-1).
//  - owner open: overlapped ConnectNamedPipe waited for until the deadline, then CancelIoEx
//    (FIFO-OPEN-3); an immediate deadline with no client is would_block (FIFO-OPEN-5).
//    ERROR_PIPE_CONNECTED and ERROR_NO_DATA (the client came and already left) are a success:
//    the end then reads what that client wrote, then EOF. The instance moves into the returned
//    end: the name lives exactly as long as that end (or the owner, before open) holds it.
//  - peer open: WaitNamedPipe + CreateFile (pipe_io.hpp). Because a Windows name IS the owner's
//    open end, the peer's open completes as soon as the owner has created the name, before the
//    owner's open() (W4); the owner's open waits for the peer as FIFO-OPEN-1/2 require.
//  - EOF is ERROR_BROKEN_PIPE on read; a write after the reader left fails ERROR_NO_DATA (or
//    ERROR_BROKEN_PIPE / ERROR_PIPE_NOT_CONNECTED): broken_pipe (FIFO-EOF-1, FIFO-PIPE-1).
//  - remove: closes the listening instance if the owner still holds it (the name vanishes, a
//    later open by name gets not_found). Once the instance has moved into the owner's end there
//    is nothing more remove() can do: the name lives until that end is closed, and a later
//    CreateFile meanwhile gets ERROR_PIPE_BUSY (would_block / timeout), not not_found.
//  - release: the owner forgets the name; the listening instance (if not yet opened) is left
//    open until the process exits, so the name outlives the object as on POSIX, but not the
//    process (FIFO-LIFE-1).
//  - adopt_existing: unsupported (nothing on Windows outlives its creator).
#include <algorithm>
#include <climits>
#include <string>
#include <utility>

#include "npipe/error.hpp"
#include "npipe/fifo.hpp"
#include "npipe/name.hpp"
#include "win32/errors.hpp"
#include "win32/pipe_io.hpp"
#include "win32/security.hpp"
#include "win32/unique_handle.hpp"
#include "win32/wide.hpp"

namespace npipe {
namespace {

// The buffer quota requested for each direction: the default capacity of a Linux pipe. The
// sizes are advisory on Windows (the system may round them).
constexpr DWORD kBufferSize = 65536;

const char* dir_word(direction d) noexcept {
  return d == direction::read ? "reading" : "writing";
}

win32::unique_handle create_instance(const std::string& path, direction dir, unsigned mode) {
  auto wide = win32::to_wide(path);
  if (!wide) throw error(errc::invalid_name, "create '" + path + "': the name is not valid UTF-8");
  win32::pipe_security security(mode);
  const DWORD open_mode = (dir == direction::read ? PIPE_ACCESS_INBOUND : PIPE_ACCESS_OUTBOUND) |
                          FILE_FLAG_FIRST_PIPE_INSTANCE | FILE_FLAG_OVERLAPPED;
  const DWORD pipe_mode =
      PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS;
  HANDLE h = ::CreateNamedPipeW(wide->c_str(), open_mode, pipe_mode, 1, kBufferSize, kBufferSize, 0,
                                security.attributes());
  if (h == INVALID_HANDLE_VALUE) {
    DWORD err = ::GetLastError();
    const std::string what = "create FIFO '" + path + "'";
    // With FILE_FLAG_FIRST_PIPE_INSTANCE, an existing name gives ERROR_ACCESS_DENIED (W8);
    // ERROR_PIPE_BUSY when its instances are all taken.
    if (err == ERROR_ACCESS_DENIED || err == ERROR_PIPE_BUSY) {
      win32::throw_win32(errc::already_exists, err, what + ": the name is held by a live pipe");
    }
    win32::throw_win32(err, what);
  }
  return win32::unique_handle(h);
}

}  // namespace

// ---- fifo_end --------------------------------------------------------------------------------

struct fifo_end::impl {
  win32::unique_handle handle;
  direction dir;
  win32::overlapped ov;
  std::string path;

  impl(win32::unique_handle h, direction d, std::string p)
      : handle(std::move(h)), dir(d), path(std::move(p)) {}
};

fifo_end::fifo_end() noexcept = default;
fifo_end::fifo_end(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}
fifo_end::fifo_end(fifo_end&&) noexcept = default;
fifo_end& fifo_end::operator=(fifo_end&&) noexcept = default;
fifo_end::~fifo_end() = default;

bool fifo_end::is_open() const noexcept {
  return impl_ && impl_->handle.valid();
}
direction fifo_end::dir() const noexcept {
  return impl_ ? impl_->dir : direction::read;
}
native_handle_t fifo_end::native_handle() const noexcept {
  return is_open() ? impl_->handle.get() : INVALID_HANDLE_VALUE;
}

std::size_t fifo_end::read(void* buf, std::size_t n, deadline d) {
  if (!is_open()) throw error(errc::io_error, "read: the FIFO end is closed");
  if (impl_->dir != direction::read) {
    throw error(errc::io_error, "read '" + impl_->path + "': this end is open for writing");
  }
  if (n == 0) return 0;
  HANDLE h = impl_->handle.get();
  const std::string what = "read '" + impl_->path + "'";
  const DWORD want = static_cast<DWORD>(std::min<std::size_t>(n, 0x7fffffff));
  if (d.is_immediate()) {
    // Non-blocking: look first, so that no read has to be started and cancelled.
    DWORD avail = 0;
    if (!::PeekNamedPipe(h, nullptr, 0, nullptr, &avail, nullptr)) {
      DWORD err = ::GetLastError();
      if (err == ERROR_BROKEN_PIPE || err == ERROR_PIPE_NOT_CONNECTED) return 0;  // EOF
      win32::throw_win32(err, what + ": PeekNamedPipe");
    }
    if (avail == 0) throw error(errc::would_block, what + ": no data");
  }
  win32::io_result r = win32::read_some(h, impl_->ov, buf, want, d);
  if (r.timed_out) {
    if (r.bytes > 0) return r.bytes;
    throw error(d.is_immediate() ? errc::would_block : errc::timeout,
                what + ": no data before the deadline");
  }
  if (r.error == ERROR_SUCCESS) return r.bytes;
  // The writer has gone and everything it wrote was read (W5): EOF. ERROR_PIPE_NOT_CONNECTED is
  // what a server instance reads once its client is gone for good.
  if (r.error == ERROR_BROKEN_PIPE || r.error == ERROR_PIPE_NOT_CONNECTED) return 0;
  win32::throw_win32(r.error, what);
}

std::size_t fifo_end::write(const void* buf, std::size_t n, deadline d) {
  if (!is_open()) throw error(errc::io_error, "write: the FIFO end is closed");
  if (impl_->dir != direction::write) {
    throw error(errc::io_error, "write '" + impl_->path + "': this end is open for reading");
  }
  if (n == 0) return 0;
  const std::string what = "write '" + impl_->path + "'";
  // With a deadline, write in slices no larger than the pipe's buffer: a cancelled WriteFile
  // reports nothing written (observed under Wine 8), so one write larger than the free space
  // would make no progress at all, where POSIX writes what fits (FIFO-IO-6). Each slice either
  // completes or is cancelled whole, so the count returned is exact.
  const std::size_t slice = d.is_forever() ? std::size_t{0x7fffffff} : std::size_t{kBufferSize};
  const auto* p = static_cast<const unsigned char*>(buf);
  std::size_t done = 0;
  while (done < n) {
    const DWORD want = static_cast<DWORD>(std::min(n - done, slice));
    win32::io_result r = win32::write_some(impl_->handle.get(), impl_->ov, p + done, want, d);
    done += r.bytes;
    if (r.timed_out) {
      if (done > 0) return done;
      throw error(d.is_immediate() ? errc::would_block : errc::timeout,
                  what + ": no room before the deadline");
    }
    if (r.error == ERROR_NO_DATA || r.error == ERROR_BROKEN_PIPE ||
        r.error == ERROR_PIPE_NOT_CONNECTED) {
      if (done > 0) return done;  // the next write reports the broken pipe
      win32::throw_win32(errc::broken_pipe, r.error, what + ": the reader has gone");
    }
    if (r.error != ERROR_SUCCESS) win32::throw_win32(r.error, what);
    if (d.is_forever()) return done;
  }
  return done;
}

void fifo_end::write_all(const void* buf, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(buf);
  while (n > 0) {
    std::size_t k = write(p, n);
    p += k;
    n -= k;
  }
}

void fifo_end::close() noexcept {
  if (impl_) impl_->handle.reset();
}

// No other writer can share a Windows pipe instance (one client per instance, and the owner's
// instance admits one client), so no write is ever interleaved with another writer's data, at
// any size. What pipe_buf() reports is the POSIX minimum PIPE_BUF (512): the size a portable
// caller may rely on everywhere. FIFO-IO-2 is a POSIX requirement.
std::size_t fifo_end::pipe_buf() noexcept {
  return 512;
}

// ---- fifo_owner ------------------------------------------------------------------------------

struct fifo_owner::impl {
  std::string path;
  direction dir = direction::read;
  fifo_options opts;
  win32::unique_handle instance;  // the listening instance, until open() hands it to an end
  win32::overlapped ov;
  bool removed = false;
};

fifo_owner::fifo_owner() noexcept = default;
fifo_owner::fifo_owner(fifo_owner&&) noexcept = default;
fifo_owner& fifo_owner::operator=(fifo_owner&& other) noexcept {
  if (this != &other) {
    if (impl_ && !impl_->removed) impl_->instance.reset();
    impl_ = std::move(other.impl_);
  }
  return *this;
}
fifo_owner::~fifo_owner() {
  if (impl_ && !impl_->removed) impl_->instance.reset();
}

fifo_owner fifo_owner::create(std::string_view name, direction dir, const fifo_options& opts) {
  std::string path = platform_name(name, name_kind::fifo);
  if (opts.adopt_existing) {
    throw error(errc::unsupported, "create FIFO '" + path +
                                       "': adopting an existing FIFO has no meaning on Windows, "
                                       "where a pipe name never outlives its server");
  }
  auto p = std::make_unique<impl>();
  p->instance = create_instance(path, dir, opts.mode);
  p->path = std::move(path);
  p->dir = dir;
  p->opts = opts;
  fifo_owner owner;
  owner.impl_ = std::move(p);
  return owner;
}

const std::string& fifo_owner::path() const noexcept {
  static const std::string empty;
  return impl_ ? impl_->path : empty;
}

direction fifo_owner::dir() const noexcept {
  return impl_ ? impl_->dir : direction::read;
}

fifo_end fifo_owner::open(deadline d) {
  if (!impl_) throw error(errc::io_error, "open: the FIFO owner is empty");
  const std::string what = "open FIFO '" + impl_->path + "' for " + dir_word(impl_->dir);
  if (!impl_->instance) {
    if (impl_->removed) throw error(errc::not_found, what + ": the name was removed");
    // The previous end took the instance: a new open makes a new one, as the owner of the name
    // again (already_exists while the previous end is still open).
    impl_->instance = create_instance(impl_->path, impl_->dir, impl_->opts.mode);
  }
  switch (win32::connect_instance(impl_->instance.get(), impl_->ov, d, what)) {
    case win32::connect_outcome::timed_out:
      throw error(d.is_immediate() ? errc::would_block : errc::timeout,
                  what + (d.is_immediate() ? ": no peer is there" : ": no peer came in time"));
    case win32::connect_outcome::connected:
    case win32::connect_outcome::client_left:
      break;
  }
  return fifo_end(
      std::make_unique<fifo_end::impl>(std::move(impl_->instance), impl_->dir, impl_->path));
}

void fifo_owner::remove() {
  if (!impl_) return;
  impl_->instance.reset();
  impl_->removed = true;
}

void fifo_owner::release() noexcept {
  if (!impl_) return;
  // Deliberately left open until the process exits: see the comment at the top.
  (void)impl_->instance.release();
  impl_->removed = true;
}

// ---- peer ------------------------------------------------------------------------------------

fifo_end open_fifo(std::string_view name, direction dir, deadline d) {
  std::string path = platform_name(name, name_kind::fifo);
  const std::string what = "open FIFO '" + path + "' for " + dir_word(dir);
  const auto access =
      dir == direction::read ? win32::client_access::read : win32::client_access::write;
  win32::unique_handle h = win32::open_client(path, access, d, what);
  DWORD flags = 0;
  if (!::GetNamedPipeInfo(h.get(), &flags, nullptr, nullptr, nullptr)) {
    win32::throw_last_error(what + ": GetNamedPipeInfo");
  }
  if (flags & PIPE_TYPE_MESSAGE) {
    throw error(errc::not_a_pipe, what + ": a message-mode pipe (a channel), not a FIFO");
  }
  return fifo_end(std::make_unique<fifo_end::impl>(std::move(h), dir, std::move(path)));
}

}  // namespace npipe
