// common/idle_child_win32.cpp: the Windows half of idle_child.hpp.
#include <windows.h>

#include <string>
#include <vector>

#include "common/idle_child.hpp"
#include "npipe/error.hpp"

namespace npipe::tools {
namespace {

[[noreturn]] void fail(const std::string& what) {
  DWORD e = GetLastError();
  throw npipe::error(errc::io_error, what + ": Win32 error " + std::to_string(e),
                     static_cast<int>(e), "");
}

}  // namespace

struct idle_child::impl {
  HANDLE process = nullptr;
  HANDLE stdin_w = nullptr;  // its stdin: EOF ends it
  DWORD pid = 0;
};

void remember_program_path(const char*) {}

idle_child::idle_child() noexcept = default;
idle_child::idle_child(idle_child&&) noexcept = default;
idle_child& idle_child::operator=(idle_child&& o) noexcept {
  if (this != &o) {
    stop();
    impl_ = std::move(o.impl_);
  }
  return *this;
}
idle_child::~idle_child() {
  stop();
}

idle_child idle_child::start() {
  std::vector<wchar_t> self(32768);
  DWORD len = GetModuleFileNameW(nullptr, self.data(), static_cast<DWORD>(self.size()));
  if (len == 0 || len >= self.size()) fail("spawn: GetModuleFileNameW");
  SECURITY_ATTRIBUTES inherit{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
  HANDLE r = nullptr, w = nullptr;
  if (!CreatePipe(&r, &w, &inherit, 0)) fail("spawn: CreatePipe");
  SetHandleInformation(w, HANDLE_FLAG_INHERIT, 0);  // only the child's end is inherited
  HANDLE ready_r = nullptr, ready_w = nullptr;      // its stdout: one byte once it runs
  if (!CreatePipe(&ready_r, &ready_w, &inherit, 0)) {
    CloseHandle(r);
    CloseHandle(w);
    fail("spawn: CreatePipe");
  }
  SetHandleInformation(ready_r, HANDLE_FLAG_INHERIT, 0);
  STARTUPINFOW si{};
  si.cb = sizeof si;
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = r;
  si.hStdOutput = ready_w;
  si.hStdError = ready_w;
  std::wstring cmd = L"\"" + std::wstring(self.data(), len) + L"\" --idle-child";
  PROCESS_INFORMATION pi{};
  // bInheritHandles TRUE: the child gets every handle this process made inheritable.
  BOOL ok =
      CreateProcessW(self.data(), &cmd[0], nullptr, nullptr, TRUE, 0, nullptr, nullptr, &si, &pi);
  CloseHandle(r);
  CloseHandle(ready_w);
  if (!ok) {
    CloseHandle(w);
    CloseHandle(ready_r);
    fail("spawn: CreateProcessW");
  }
  CloseHandle(pi.hThread);
  idle_child c;
  c.impl_ = std::make_unique<impl>();
  c.impl_->process = pi.hProcess;
  c.impl_->stdin_w = w;
  c.impl_->pid = pi.dwProcessId;
  // Reply only once the child runs its program, as on POSIX.
  char b = 0;
  DWORD got = 0;
  BOOL read_ok = ReadFile(ready_r, &b, 1, &got, nullptr);
  CloseHandle(ready_r);
  if (!read_ok || got != 1) fail("spawn: the child did not start");
  return c;
}

void idle_child::stop() noexcept {
  if (!impl_ || !impl_->process) return;
  CloseHandle(impl_->stdin_w);
  TerminateProcess(impl_->process, 0);
  WaitForSingleObject(impl_->process, INFINITE);
  CloseHandle(impl_->process);
  impl_->process = nullptr;
}

long idle_child::pid() const noexcept {
  return impl_ ? static_cast<long>(impl_->pid) : -1;
}

int run_idle_child() {
  DWORD put = 0;
  HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
  WriteFile(out, "1", 1, &put, nullptr);
  CloseHandle(out);
  HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
  char buf[256];
  DWORD got = 0;
  while (ReadFile(in, buf, sizeof buf, &got, nullptr) && got > 0) {
  }
  return 0;
}

}  // namespace npipe::tools
