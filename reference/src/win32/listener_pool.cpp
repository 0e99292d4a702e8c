// The Windows Channel listener's waiting instances: see listener_pool.hpp.
#include "win32/listener_pool.hpp"

#include <algorithm>
#include <utility>

#include "win32/errors.hpp"

namespace npipe::win32 {

listener_pool::listener_pool(make_instance make, int backlog)
    : make_(std::move(make)),
      want_(static_cast<std::size_t>(std::clamp(backlog, 1, MAXIMUM_WAIT_OBJECTS))) {
  auto first = std::make_unique<slot>();
  first->pipe = make_(true);
  slots_.push_back(std::move(first));
  refill("listen");
}

listener_pool::~listener_pool() {
  for (auto& s : slots_) {
    if (s->pending) {
      // The OVERLAPPED must outlive the operation: cancel it and wait until it has ended.
      ::CancelIoEx(s->pipe.get(), s->ov.get());
      DWORD n = 0;
      ::GetOverlappedResult(s->pipe.get(), s->ov.get(), &n, TRUE);
    }
  }
}

HANDLE listener_pool::any_instance() const noexcept {
  return slots_.empty() ? INVALID_HANDLE_VALUE : slots_.front()->pipe.get();
}

void listener_pool::refill(const std::string& what) {
  while (slots_.size() < want_) {
    auto s = std::make_unique<slot>();
    try {
      s->pipe = make_(false);
    } catch (const npipe::error& e) {
      // Out of handles or quota: fewer instances wait for now; with none at all, say why.
      (void)e;
      (void)what;
      return;
    }
    slots_.push_back(std::move(s));
  }
}

int listener_pool::start_idle(const std::string& what) {
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    slot& s = *slots_[i];
    if (s.pending) continue;
    OVERLAPPED* o = s.ov.start();
    if (::ConnectNamedPipe(s.pipe.get(), o)) return static_cast<int>(i);  // completed at once
    const DWORD err = ::GetLastError();
    // A client that came before the call (ERROR_PIPE_CONNECTED), or came and already left
    // (ERROR_NO_DATA: ConnectNamedPipe page; CPython PipeListener.accept): both are a connection to
    // hand over.
    if (err == ERROR_PIPE_CONNECTED || err == ERROR_NO_DATA) return static_cast<int>(i);
    if (err != ERROR_IO_PENDING) throw_win32(err, what + ": ConnectNamedPipe");
    s.pending = true;
  }
  return -1;
}

void listener_pool::take(std::size_t i, unique_handle& out, const std::string& what) {
  out = std::move(slots_[i]->pipe);
  slots_.erase(slots_.begin() + static_cast<std::ptrdiff_t>(i));
  // A fresh instance before the connected one is handed over (CHAN-LISTEN-7). Should that fail,
  // the client is still served and the next accept() tries again.
  try {
    refill(what);
  } catch (const npipe::error&) {
  }
}

listener_pool::outcome listener_pool::accept(deadline d, unique_handle& out,
                                             const std::string& what) {
  refill(what);
  for (;;) {
    const int ready = start_idle(what);
    if (ready >= 0) {
      take(static_cast<std::size_t>(ready), out, what);
      return outcome::taken;
    }
    HANDLE events[MAXIMUM_WAIT_OBJECTS];
    const DWORD count = static_cast<DWORD>(slots_.size());
    for (DWORD i = 0; i < count; ++i)
      events[i] = slots_[i]->ov.event();
    const DWORD w = ::WaitForMultipleObjects(count, events, FALSE, wait_ms(d));
    if (w == WAIT_TIMEOUT) {
      if (d.is_immediate() || d.expired()) return outcome::timed_out;
      continue;  // woke early (rounding): wait for what is left
    }
    if (w >= WAIT_OBJECT_0 + count) throw_last_error(what + ": WaitForMultipleObjects");
    const std::size_t i = w - WAIT_OBJECT_0;
    slot& s = *slots_[i];
    s.pending = false;
    DWORD n = 0;
    if (::GetOverlappedResult(s.pipe.get(), s.ov.get(), &n, FALSE)) {
      take(i, out, what);
      return outcome::taken;
    }
    const DWORD err = ::GetLastError();
    if (err == ERROR_PIPE_CONNECTED || err == ERROR_NO_DATA) {
      take(i, out, what);
      return outcome::taken;
    }
    // This instance failed: drop it (refill makes another) and report, as one accept failing.
    slots_.erase(slots_.begin() + static_cast<std::ptrdiff_t>(i));
    throw_win32(err, what + ": ConnectNamedPipe");
  }
}

}  // namespace npipe::win32
