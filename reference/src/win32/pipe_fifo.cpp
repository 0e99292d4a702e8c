// The Windows FIFO backend (spec FIFO-*): the owner is a byte-mode server instance, the
// peer its client.
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
//    owner's open() (FIFO-OPEN-11); the owner's open waits for the peer as FIFO-OPEN-1/2 require.
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
//  - io_mode: no effect; every end is an overlapped handle.
#include <algorithm>
#include <climits>
#include <memory>
#include <string>
#include <utility>

#include "common/backend.hpp"
#include "npipe/error.hpp"
#include "win32/errors.hpp"
#include "win32/pipe_io.hpp"
#include "win32/security.hpp"
#include "win32/unique_handle.hpp"
#include "win32/wide.hpp"

namespace npipe::win32 {
namespace {

// The buffer quota requested for each direction: the default capacity of a Linux pipe. The
// sizes are advisory on Windows (the system may round them).
constexpr DWORD kBufferSize = 65536;

const char* dir_word(direction d) noexcept {
  return d == direction::read ? "reading" : "writing";
}

unique_handle create_instance(const std::string& path, direction dir, unsigned mode) {
  auto wide = to_wide(path);
  if (!wide) throw error(errc::invalid_name, "create '" + path + "': the name is not valid UTF-8");
  pipe_security security(mode);
  const DWORD open_mode = (dir == direction::read ? PIPE_ACCESS_INBOUND : PIPE_ACCESS_OUTBOUND) |
                          FILE_FLAG_FIRST_PIPE_INSTANCE | FILE_FLAG_OVERLAPPED;
  const DWORD pipe_mode =
      PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS;
  HANDLE h = ::CreateNamedPipeW(wide->c_str(), open_mode, pipe_mode, 1, kBufferSize, kBufferSize, 0,
                                security.attributes());
  if (h == INVALID_HANDLE_VALUE) {
    const DWORD err = ::GetLastError();
    const std::string what = "create FIFO '" + path + "'";
    // With FILE_FLAG_FIRST_PIPE_INSTANCE, an existing name gives ERROR_ACCESS_DENIED
    // (CreateNamedPipe page); ERROR_PIPE_BUSY when its instances are all taken.
    if (err == ERROR_ACCESS_DENIED || err == ERROR_PIPE_BUSY) {
      throw_win32(errc::already_exists, err, what + ": the name is held by a live pipe");
    }
    throw_win32(err, what);
  }
  return unique_handle(h);
}

class pipe_end final : public backend::fifo_stream {
 public:
  pipe_end(unique_handle h, std::string path) : handle_(std::move(h)), path_(std::move(path)) {}

  backend::progress read(void* buf, std::size_t n, deadline d) override {
    HANDLE h = handle_.get();
    const std::string what = "read '" + path_ + "'";
    const DWORD want = static_cast<DWORD>(std::min<std::size_t>(n, 0x7fffffff));
    if (d.is_immediate()) {
      // Non-blocking: look first, so that no read has to be started and cancelled.
      DWORD avail = 0;
      if (!::PeekNamedPipe(h, nullptr, 0, nullptr, &avail, nullptr)) {
        const DWORD err = ::GetLastError();
        if (err == ERROR_BROKEN_PIPE || err == ERROR_PIPE_NOT_CONNECTED) return {0, false};  // EOF
        throw_win32(err, what + ": PeekNamedPipe");
      }
      if (avail == 0) return {0, true};
    }
    const io_result r = read_some(h, ov_, buf, want, d);
    if (r.timed_out) return {r.bytes, r.bytes == 0};
    if (r.error == ERROR_SUCCESS) return {r.bytes, false};
    // The writer has gone and everything it wrote was read (spec FIFO-EOF-1): EOF.
    // ERROR_PIPE_NOT_CONNECTED is what a server instance reads once its client is gone for good.
    if (r.error == ERROR_BROKEN_PIPE || r.error == ERROR_PIPE_NOT_CONNECTED) return {0, false};
    throw_win32(r.error, what);
  }

  backend::progress write(const void* buf, std::size_t n, deadline d) override {
    const std::string what = "write '" + path_ + "'";
    // With a deadline, write in slices no larger than the pipe's buffer: a cancelled WriteFile
    // reports nothing written (observed under Wine 8), so one write larger than the free space
    // would make no progress at all, where POSIX writes what fits (FIFO-IO-6). Each slice either
    // completes or is cancelled whole, so the count returned is exact.
    const std::size_t slice = d.is_forever() ? std::size_t{0x7fffffff} : std::size_t{kBufferSize};
    const auto* p = static_cast<const unsigned char*>(buf);
    backend::progress out;
    while (out.count < n) {
      const DWORD want = static_cast<DWORD>(std::min(n - out.count, slice));
      const io_result r = write_some(handle_.get(), ov_, p + out.count, want, d);
      out.count += r.bytes;
      if (r.timed_out) {
        out.expired = true;
        return out;
      }
      if (r.error == ERROR_NO_DATA || r.error == ERROR_BROKEN_PIPE ||
          r.error == ERROR_PIPE_NOT_CONNECTED) {
        if (out.count > 0) return out;  // the next write reports the broken pipe
        throw_win32(errc::broken_pipe, r.error, what + ": the reader has gone");
      }
      if (r.error != ERROR_SUCCESS) {
        if (out.count > 0) return out;
        throw_win32(r.error, what);
      }
    }
    return out;
  }

  native_handle_t native_handle() const noexcept override { return handle_.get(); }
  native_handle_t release() noexcept override { return handle_.release(); }

 private:
  unique_handle handle_;
  overlapped ov_;
  std::string path_;
};

class pipe_name final : public backend::fifo_name {
 public:
  pipe_name(std::string path, direction dir, unsigned mode)
      : path_(std::move(path)),
        dir_(dir),
        mode_(mode),
        instance_(create_instance(path_, dir, mode)) {}

  ~pipe_name() override {
    if (!released_) instance_.reset();
  }

  std::unique_ptr<backend::fifo_stream> open(deadline d, io_mode) override {
    const std::string what = "open FIFO '" + path_ + "' for " + dir_word(dir_);
    if (!instance_) {
      if (removed_ || released_) throw error(errc::not_found, what + ": the name was removed");
      // The previous end took the instance: a new open makes a new one, as the owner of the name
      // again (already_exists while the previous end is still open).
      instance_ = create_instance(path_, dir_, mode_);
    }
    switch (connect_instance(instance_.get(), ov_, d, what)) {
      case connect_outcome::timed_out:
        return nullptr;
      case connect_outcome::connected:
      case connect_outcome::client_left:
        break;
    }
    return std::make_unique<pipe_end>(std::move(instance_), path_);
  }

  void remove() override {
    instance_.reset();
    removed_ = true;
  }

  void release() noexcept override {
    // Deliberately left open until the process exits: see the comment at the top.
    (void)instance_.release();
    released_ = true;
  }

 private:
  std::string path_;
  direction dir_;
  unsigned mode_;
  unique_handle instance_;  // the listening instance, until open() hands it to an end
  overlapped ov_;
  bool removed_ = false;
  bool released_ = false;
};

}  // namespace
}  // namespace npipe::win32

namespace npipe::backend {

std::unique_ptr<fifo_name> create_fifo(const std::string& path, direction dir,
                                       const fifo_options& opts) {
  if (opts.adopt_existing) {
    throw error(errc::unsupported, "create FIFO '" + path +
                                       "': adopting an existing FIFO has no meaning on Windows, "
                                       "where a pipe name never outlives its server");
  }
  return std::make_unique<win32::pipe_name>(path, dir, opts.mode);
}

std::unique_ptr<fifo_stream> open_fifo(const std::string& path, direction dir, deadline d,
                                       io_mode) {
  const std::string what = "open FIFO '" + path + "' for " + win32::dir_word(dir);
  const auto access =
      dir == direction::read ? win32::client_access::read : win32::client_access::write;
  win32::unique_handle h = win32::open_client(path, access, d, what);
  win32::check_pipe_type(h.get(), false, what);
  return std::make_unique<win32::pipe_end>(std::move(h), path);
}

std::unique_ptr<fifo_stream> adopt_fifo(native_handle_t h, direction, io_mode) {
  win32::unique_handle owned(h);  // ours from here on, closed on any failure below
  if (!owned) throw error(errc::io_error, "adopt a FIFO end: not a handle");
  win32::check_pipe_type(owned.get(), false, "adopt a FIFO end");
  return std::make_unique<win32::pipe_end>(std::move(owned), "(adopted)");
}

// No other writer can share a Windows pipe instance (one client per instance, and the owner's
// instance admits one client), so no write is ever interleaved with another writer's data, at
// any size. What pipe_buf() reports is the POSIX minimum PIPE_BUF (512): the size a portable
// caller may rely on everywhere. FIFO-IO-2 is a POSIX requirement.
std::size_t pipe_buf() noexcept {
  return 512;
}

}  // namespace npipe::backend
