// The Windows Channel listener's waiting instances: `backlog` server instances of one name, each
// with an overlapped ConnectNamedPipe pending, so that up to `backlog` clients connect before any
// accept() (as listen(2)'s backlog lets them on POSIX) and accept() takes whichever connected
// first. Capped at MAXIMUM_WAIT_OBJECTS (64), the most one WaitForMultipleObjects can wait on.
#pragma once

#include <windows.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "npipe/deadline.hpp"
#include "win32/pipe_io.hpp"
#include "win32/unique_handle.hpp"

namespace npipe::win32 {

class listener_pool {
 public:
  // Makes one new instance of the name (the first with FILE_FLAG_FIRST_PIPE_INSTANCE); throws
  // npipe::error.
  using make_instance = std::function<unique_handle(bool first)>;

  // Makes the first instance at once (already_exists when the name is live), and the others up
  // to `backlog` (at least 1, at most 64). Throws what `make` throws for the first.
  listener_pool(make_instance make, int backlog);
  listener_pool(const listener_pool&) = delete;
  listener_pool& operator=(const listener_pool&) = delete;
  // Cancels every pending ConnectNamedPipe, waits for each cancel, and closes every instance.
  ~listener_pool();

  enum class outcome { taken, timed_out };
  // Waits until `d` for a client on any instance. taken: `out` is the connected instance (a client
  // that already left counts, as ConnectNamedPipe's ERROR_NO_DATA), and a new instance has been
  // made in its place before return, so the name never vanishes (CHAN-LISTEN-7); should that
  // fail, the next accept tries again. timed_out: nothing is cancelled: the instances keep
  // waiting, and a client that comes meanwhile is taken by the next call. Throws npipe::error
  // (with `what`) when no instance can be made or waited on.
  outcome accept(deadline d, unique_handle& out, const std::string& what);

  // One of the waiting instances, for messages and GetSecurityInfo; changes on every accept.
  HANDLE any_instance() const noexcept;

 private:
  struct slot {
    unique_handle pipe;
    overlapped ov;
    bool pending = false;  // a ConnectNamedPipe is in flight on `pipe` with `ov`
  };
  void refill(const std::string& what);
  // Starts ConnectNamedPipe on every idle slot; returns the index of one already connected, or -1.
  int start_idle(const std::string& what);
  void take(std::size_t i, unique_handle& out, const std::string& what);

  make_instance make_;
  std::size_t want_;
  std::vector<std::unique_ptr<slot>> slots_;
};

}  // namespace npipe::win32
