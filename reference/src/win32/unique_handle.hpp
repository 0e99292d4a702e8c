// unique_handle: owns one Win32 HANDLE and closes it exactly once; and event: a manual-reset
// event for one OVERLAPPED operation at a time.
#pragma once

#include <windows.h>

#include <utility>

namespace npipe::win32 {

class unique_handle {
 public:
  unique_handle() noexcept = default;
  explicit unique_handle(HANDLE h) noexcept : h_(h) {}
  unique_handle(unique_handle&& other) noexcept : h_(other.release()) {}
  unique_handle& operator=(unique_handle&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  unique_handle(const unique_handle&) = delete;
  unique_handle& operator=(const unique_handle&) = delete;
  ~unique_handle() { reset(); }

  HANDLE get() const noexcept { return h_; }
  // INVALID_HANDLE_VALUE (CreateFile, CreateNamedPipe) and NULL (CreateEvent) both mean "none".
  bool valid() const noexcept { return h_ != nullptr && h_ != INVALID_HANDLE_VALUE; }
  explicit operator bool() const noexcept { return valid(); }

  HANDLE release() noexcept { return std::exchange(h_, INVALID_HANDLE_VALUE); }
  void reset(HANDLE h = INVALID_HANDLE_VALUE) noexcept {
    HANDLE old = std::exchange(h_, h);
    if (old != nullptr && old != INVALID_HANDLE_VALUE) ::CloseHandle(old);
  }

 private:
  HANDLE h_ = INVALID_HANDLE_VALUE;
};

}  // namespace npipe::win32
