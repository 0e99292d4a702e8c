// npipe::fifo_end, fifo_owner and open_fifo, written once over the backend (common/backend.hpp):
// the checks, the two forms of each call, and the naming of would_block and timeout.
#include <exception>
#include <memory>
#include <string>
#include <utility>

#include "common/backend.hpp"
#include "common/call.hpp"
#include "npipe/error.hpp"
#include "npipe/fifo.hpp"
#include "npipe/name.hpp"

namespace npipe {

struct fifo_end::impl {
  std::unique_ptr<backend::fifo_stream> stream;  // null once closed
  direction dir = direction::read;
  io_mode mode = io_mode::blocking;
  std::string path;  // for messages
};

struct fifo_owner::impl {
  std::unique_ptr<backend::fifo_name> name;
  std::string path;
  direction dir = direction::read;
  io_mode mode_of_ends = io_mode::blocking;
  bool removed = false;   // remove() was called: open() gives not_found
  bool released = false;  // release() was called: remove() and the destructor leave the name
};

namespace {

fifo_end make_end(std::unique_ptr<backend::fifo_stream> s, direction dir, io_mode mode,
                  std::string path) {
  auto p = std::make_unique<fifo_end::impl>();
  p->stream = std::move(s);
  p->dir = dir;
  p->mode = mode;
  p->path = std::move(path);
  return fifo_end(std::move(p));
}

const char* dir_word(direction d) noexcept {
  return d == direction::read ? "reading" : "writing";
}

// The end a read or write may use, or the reason it may not.
backend::fifo_stream& usable(fifo_end::impl* p, direction want, const char* op) {
  if (!p || !p->stream) {
    throw error(errc::io_error, std::string(op) + " a closed FIFO end");
  }
  if (p->dir != want) {
    throw error(errc::io_error, std::string(op) + " FIFO '" + p->path +
                                    "': this end was opened for " + dir_word(p->dir));
  }
  return *p->stream;
}

std::string what(const fifo_end::impl* p, const char* op) {
  return std::string(op) + " FIFO '" + p->path + "'";
}

// write_all's loop: as many backend writes as it takes, until n, the deadline or a failure. A
// failure before any byte was written is thrown; after some, it is kept in `failure` with the
// count, so that no caller loses the count of what was written (the data already accepted).
struct write_outcome {
  std::size_t count = 0;
  bool expired = false;
  std::exception_ptr failure;
};

write_outcome write_loop(fifo_end::impl* p, const void* buf, std::size_t n, deadline d) {
  backend::fifo_stream& s = usable(p, direction::write, "write to");
  const auto* bytes = static_cast<const unsigned char*>(buf);
  write_outcome out;
  while (out.count < n) {
    backend::progress r;
    try {
      r = s.write(bytes + out.count, n - out.count, d);
    } catch (const error&) {
      if (out.count == 0) throw;
      out.failure = std::current_exception();
      return out;
    }
    out.count += r.count;
    if (r.expired) {
      out.expired = true;
      return out;
    }
  }
  return out;
}

}  // namespace

// ---- fifo_end ----------------------------------------------------------------------------------

fifo_end::fifo_end() noexcept = default;
fifo_end::fifo_end(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}
fifo_end::fifo_end(fifo_end&&) noexcept = default;
fifo_end& fifo_end::operator=(fifo_end&&) noexcept = default;
fifo_end::~fifo_end() = default;

fifo_end fifo_end::from_native(native_handle_t h, direction dir, io_mode mode) {
  return make_end(backend::adopt_fifo(h, dir, mode), dir, mode, "(adopted)");
}

fifo_end fifo_end::from_native(native_handle_t h, direction dir, io_mode mode,
                               std::error_code& ec) noexcept {
  return detail::with_error_code(ec, fifo_end(), [&] { return from_native(h, dir, mode); });
}

bool fifo_end::is_open() const noexcept {
  return impl_ && impl_->stream;
}
direction fifo_end::dir() const noexcept {
  return impl_ ? impl_->dir : direction::read;
}
io_mode fifo_end::mode() const noexcept {
  return impl_ ? impl_->mode : io_mode::blocking;
}
native_handle_t fifo_end::native_handle() const noexcept {
  return is_open() ? impl_->stream->native_handle() : invalid_native_handle;
}
native_handle_t fifo_end::release() noexcept {
  if (!is_open()) return invalid_native_handle;
  native_handle_t h = impl_->stream->release();
  impl_->stream.reset();
  return h;
}

void fifo_end::close() noexcept {
  if (impl_) impl_->stream.reset();
}

std::size_t fifo_end::pipe_buf() noexcept {
  return backend::pipe_buf();
}

std::size_t fifo_end::read(void* buf, std::size_t n, deadline d) {
  backend::fifo_stream& s = usable(impl_.get(), direction::read, "read from");
  // read(2) of 0 bytes would return 0, which callers take for EOF: answer without asking.
  if (n == 0) return 0;
  const backend::progress r = s.read(buf, n, d);
  if (r.expired) detail::throw_not_ready(d, what(impl_.get(), "read from"));
  return r.count;
}

std::size_t fifo_end::read(void* buf, std::size_t n, deadline d, std::error_code& ec) noexcept {
  return detail::with_error_code(ec, std::size_t{0}, [&] {
    backend::fifo_stream& s = usable(impl_.get(), direction::read, "read from");
    if (n == 0) return std::size_t{0};
    const backend::progress r = s.read(buf, n, d);
    if (r.expired) ec = make_error_code(detail::not_ready_code(d));
    return r.count;
  });
}

std::size_t fifo_end::write(const void* buf, std::size_t n, deadline d) {
  return write_all(buf, n, d);
}

std::size_t fifo_end::write(const void* buf, std::size_t n, deadline d,
                            std::error_code& ec) noexcept {
  return write_all(buf, n, d, ec);
}

void fifo_end::write_all(const void* buf, std::size_t n) {
  if (n == 0) {
    usable(impl_.get(), direction::write, "write to");
    return;
  }
  const write_outcome out = write_loop(impl_.get(), buf, n, deadline::forever());
  if (out.failure) std::rethrow_exception(out.failure);
}

std::size_t fifo_end::write_all(const void* buf, std::size_t n, deadline d) {
  if (n == 0) {
    usable(impl_.get(), direction::write, "write to");
    return 0;
  }
  const write_outcome out = write_loop(impl_.get(), buf, n, d);
  // A failure is thrown even after some bytes (the reader left: broken_pipe, FIFO-PIPE-1); the
  // deadline is an error only when nothing was written (the count says how far it got).
  if (out.failure) std::rethrow_exception(out.failure);
  if (out.expired && out.count == 0) detail::throw_not_ready(d, what(impl_.get(), "write to"));
  return out.count;
}

std::size_t fifo_end::write_all(const void* buf, std::size_t n, deadline d,
                                std::error_code& ec) noexcept {
  std::size_t done = 0;
  detail::with_error_code(ec, [&] {
    if (n == 0) {
      usable(impl_.get(), direction::write, "write to");
      return;
    }
    const write_outcome out = write_loop(impl_.get(), buf, n, d);
    done = out.count;
    if (out.failure) std::rethrow_exception(out.failure);  // becomes ec, with the count kept
    if (out.expired) ec = make_error_code(detail::not_ready_code(d));
  });
  return done;
}

// ---- fifo_owner --------------------------------------------------------------------------------

fifo_owner::fifo_owner() noexcept = default;
fifo_owner::fifo_owner(fifo_owner&&) noexcept = default;

fifo_owner& fifo_owner::operator=(fifo_owner&& other) noexcept {
  if (this != &other) {
    std::error_code ignored;  // the name we held stays behind, as after a crash (FIFO-LIFE-1)
    remove(ignored);
    impl_ = std::move(other.impl_);
  }
  return *this;
}

fifo_owner::~fifo_owner() {
  std::error_code ignored;  // a destructor must not throw; the name stays (FIFO-LIFE-1)
  remove(ignored);
}

fifo_owner fifo_owner::create(std::string_view name, direction dir, const fifo_options& opts) {
  auto p = std::make_unique<impl>();
  p->path = platform_name(name, name_kind::fifo);
  p->dir = dir;
  p->mode_of_ends = opts.mode_of_ends;
  p->name = backend::create_fifo(p->path, dir, opts);
  fifo_owner owner;
  owner.impl_ = std::move(p);
  return owner;
}

fifo_owner fifo_owner::create(std::string_view name, direction dir, const fifo_options& opts,
                              std::error_code& ec) noexcept {
  return detail::with_error_code(ec, fifo_owner(), [&] { return create(name, dir, opts); });
}

const std::string& fifo_owner::path() const noexcept {
  static const std::string empty;
  return impl_ ? impl_->path : empty;
}

direction fifo_owner::dir() const noexcept {
  return impl_ ? impl_->dir : direction::read;
}

fifo_end fifo_owner::open(deadline d) {
  if (!impl_) throw error(errc::io_error, "open of an empty fifo_owner (moved from?)");
  const std::string what = "open FIFO '" + impl_->path + "' for " + dir_word(impl_->dir);
  if (impl_->removed) throw error(errc::not_found, what + ": this owner removed it");
  auto s = impl_->name->open(d, impl_->mode_of_ends);
  if (!s) detail::throw_not_ready(d, what);
  return make_end(std::move(s), impl_->dir, impl_->mode_of_ends, impl_->path);
}

fifo_end fifo_owner::open(deadline d, std::error_code& ec) noexcept {
  return detail::with_error_code(ec, fifo_end(), [&] { return open(d); });
}

void fifo_owner::remove() {
  if (!impl_ || impl_->removed || impl_->released) return;
  impl_->name->remove();
  impl_->removed = true;
}

void fifo_owner::remove(std::error_code& ec) noexcept {
  detail::with_error_code(ec, [&] { remove(); });
}

void fifo_owner::release() noexcept {
  if (!impl_ || impl_->removed || impl_->released) return;
  impl_->name->release();
  impl_->released = true;  // the backend says whether the owner can still open (POSIX: yes)
}

// ---- open_fifo ---------------------------------------------------------------------------------

fifo_end open_fifo(std::string_view name, direction dir, deadline d, io_mode mode) {
  std::string path = platform_name(name, name_kind::fifo);
  auto s = backend::open_fifo(path, dir, d, mode);
  if (!s) detail::throw_not_ready(d, "open FIFO '" + path + "' for " + dir_word(dir));
  return make_end(std::move(s), dir, mode, std::move(path));
}

fifo_end open_fifo(std::string_view name, direction dir, deadline d, std::error_code& ec) noexcept {
  return open_fifo(name, dir, d, io_mode::blocking, ec);
}

fifo_end open_fifo(std::string_view name, direction dir, deadline d, io_mode mode,
                   std::error_code& ec) noexcept {
  return detail::with_error_code(ec, fifo_end(), [&] { return open_fifo(name, dir, d, mode); });
}

}  // namespace npipe
