// The Windows half of the test support (see support.hpp), for the mingw-w64 build run under Wine.
//
// - Children are real processes (CreateProcessW). Their stdin is an anonymous pipe; their stdout
//   is a named pipe whose read end here is overlapped, so read_line() can wait with a timeout
//   instead of polling. Only the child's two pipe ends and a duplicate of this process's stderr
//   are inherited (PROC_THREAD_ATTRIBUTE_HANDLE_LIST), whatever other threads are spawning.
// - process::kill() is TerminateProcess with exit code 137 (128 + SIGKILL), so a test that kills a
//   child sees the same status on both platforms.
// - stdin/stdout of a child started by spawn_self are switched to binary mode before main(), so the
//   CRT does not turn "\n" into "\r\n"; read_line() also drops a "\r" before "\n" (other programs).
// - wait_until_blocked: Windows has no /proc; the documented grace period (200 ms) is used, which
//   can only make a test pass wrongly on a slow machine, never fail wrongly.
// - count_open_fds: the process's handle count (GetProcessHandleCount).
#include <fcntl.h>
#include <io.h>
#include <windows.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

#include "support.hpp"

namespace npipe::test {
namespace {

using clock = std::chrono::steady_clock;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": Win32 error " + std::to_string(::GetLastError()));
}

DWORD remaining_ms(clock::time_point end) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - clock::now()).count();
  return left < 0 ? 0 : static_cast<DWORD>(left);
}

std::wstring widen(const std::string& s) {
  if (s.empty()) return {};
  int n = ::MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
  std::wstring out(static_cast<std::size_t>(n), L'\0');
  ::MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), out.data(), n);
  return out;
}

std::string narrow(const std::wstring& s) {
  if (s.empty()) return {};
  int n = ::WideCharToMultiByte(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0,
                                nullptr, nullptr);
  std::string out(static_cast<std::size_t>(n), '\0');
  ::WideCharToMultiByte(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), out.data(), n, nullptr,
                        nullptr);
  return out;
}

// One argument quoted for CommandLineToArgvW / the MSVC and mingw CRT parsers.
void append_quoted(std::wstring& cmd, const std::wstring& arg) {
  if (!arg.empty() && arg.find_first_of(L" \t\n\v\"") == std::wstring::npos) {
    cmd += arg;
    return;
  }
  cmd += L'"';
  for (auto it = arg.begin();; ++it) {
    std::size_t backslashes = 0;
    while (it != arg.end() && *it == L'\\') {
      ++it;
      ++backslashes;
    }
    if (it == arg.end()) {
      cmd.append(backslashes * 2, L'\\');
      break;
    }
    if (*it == L'"') {
      cmd.append(backslashes * 2 + 1, L'\\');
      cmd += L'"';
    } else {
      cmd.append(backslashes, L'\\');
      cmd += *it;
    }
  }
  cmd += L'"';
}

HANDLE to_handle(int fd) {
  return fd >= 0 ? reinterpret_cast<HANDLE>(_get_osfhandle(fd)) : nullptr;
}

// A child started by spawn_self talks binary on stdin/stdout (see the top of the file).
const bool binary_child_stdio = [] {
  const wchar_t* cmd = ::GetCommandLineW();
  if (cmd && std::wcsstr(cmd, L" --npipe-child ")) {
    _setmode(_fileno(stdin), _O_BINARY);
    _setmode(_fileno(stdout), _O_BINARY);
  }
  return true;
}();

std::atomic<unsigned> g_counter{0};

}  // namespace

// ---- temp_dir ----------------------------------------------------------------------------------

temp_dir::temp_dir() {
  wchar_t base[MAX_PATH + 1];
  DWORD n = ::GetTempPathW(MAX_PATH + 1, base);
  if (n == 0 || n > MAX_PATH) fail("GetTempPath");
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::wstring dir = std::wstring(base) + L"npipe-test-" +
                       std::to_wstring(::GetCurrentProcessId()) + L"-" +
                       std::to_wstring(g_counter.fetch_add(1)) + L"-" +
                       std::to_wstring(::GetTickCount64() % 1000000);
    if (::CreateDirectoryW(dir.c_str(), nullptr)) {
      path_ = narrow(dir);
      return;
    }
    if (::GetLastError() != ERROR_ALREADY_EXISTS) fail("CreateDirectory");
  }
  fail("CreateDirectory: no unique name");
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(std::filesystem::u8path(path_), ec);
}

// ---- process -----------------------------------------------------------------------------------

process process::spawn(std::vector<std::string> argv, const std::vector<std::string>& extra_env) {
  if (argv.empty()) throw std::runtime_error("process::spawn: empty argv");
  SECURITY_ATTRIBUTES inherit{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};

  // stdin: an anonymous pipe; only the child's read end is inheritable.
  HANDLE in_read = nullptr, in_write = nullptr;
  if (!::CreatePipe(&in_read, &in_write, &inherit, 0)) fail("CreatePipe");
  ::SetHandleInformation(in_write, HANDLE_FLAG_INHERIT, 0);

  // stdout: a named pipe, overlapped on this side so reads can time out.
  std::wstring name =
      L"\\\\.\\pipe\\npipe-test-stdout-" + std::to_wstring(::GetCurrentProcessId()) + L"-" +
      std::to_wstring(g_counter.fetch_add(1)) + L"-" + std::to_wstring(::GetTickCount64());
  HANDLE out_read = ::CreateNamedPipeW(
      name.c_str(), PIPE_ACCESS_INBOUND | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
      PIPE_TYPE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS, 1, 65536, 65536, 0, nullptr);
  if (out_read == INVALID_HANDLE_VALUE) fail("CreateNamedPipe (child stdout)");
  HANDLE out_write =
      ::CreateFileW(name.c_str(), GENERIC_WRITE, 0, &inherit, OPEN_EXISTING, 0, nullptr);
  if (out_write == INVALID_HANDLE_VALUE) fail("CreateFile (child stdout)");

  HANDLE err_dup = nullptr;
  HANDLE err = ::GetStdHandle(STD_ERROR_HANDLE);
  if (err && err != INVALID_HANDLE_VALUE) {
    ::DuplicateHandle(::GetCurrentProcess(), err, ::GetCurrentProcess(), &err_dup, 0, TRUE,
                      DUPLICATE_SAME_ACCESS);
  }

  std::wstring cmd;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    if (i) cmd += L' ';
    append_quoted(cmd, widen(argv[i]));
  }

  // The environment: this process's, with extra_env's NAME=VALUE entries replacing or adding.
  std::wstring env_block;
  {
    std::vector<std::wstring> entries;
    wchar_t* env = ::GetEnvironmentStringsW();
    for (wchar_t* e = env; e && *e; e += std::wcslen(e) + 1)
      entries.emplace_back(e);
    if (env) ::FreeEnvironmentStringsW(env);
    for (const auto& x : extra_env) {
      std::wstring w = widen(x);
      std::wstring key = w.substr(0, w.find(L'=') + 1);
      bool replaced = false;
      for (auto& e : entries) {
        if (e.size() >= key.size() && _wcsnicmp(e.c_str(), key.c_str(), key.size()) == 0) {
          e = w;
          replaced = true;
        }
      }
      if (!replaced) entries.push_back(w);
    }
    for (const auto& e : entries) {
      env_block += e;
      env_block += L'\0';
    }
    env_block += L'\0';
  }

  HANDLE inherited[3] = {in_read, out_write, err_dup};
  DWORD n_inherited = err_dup ? 3 : 2;
  SIZE_T attr_size = 0;
  ::InitializeProcThreadAttributeList(nullptr, 1, 0, &attr_size);
  std::vector<unsigned char> attr_buf(attr_size);
  auto* attrs = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(attr_buf.data());
  if (!::InitializeProcThreadAttributeList(attrs, 1, 0, &attr_size)) {
    fail("InitializeProcThreadAttributeList");
  }
  ::UpdateProcThreadAttribute(attrs, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, inherited,
                              n_inherited * sizeof(HANDLE), nullptr, nullptr);

  STARTUPINFOEXW si{};
  si.StartupInfo.cb = sizeof si;
  si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  si.StartupInfo.hStdInput = in_read;
  si.StartupInfo.hStdOutput = out_write;
  si.StartupInfo.hStdError = err_dup ? err_dup : err;
  si.lpAttributeList = attrs;
  PROCESS_INFORMATION pi{};
  std::wstring app = widen(argv[0]);
  BOOL ok = ::CreateProcessW(app.c_str(), cmd.data(), nullptr, nullptr, TRUE,
                             EXTENDED_STARTUPINFO_PRESENT | CREATE_UNICODE_ENVIRONMENT,
                             env_block.data(), nullptr, &si.StartupInfo, &pi);
  DWORD create_error = ::GetLastError();
  ::DeleteProcThreadAttributeList(attrs);
  ::CloseHandle(in_read);
  ::CloseHandle(out_write);
  if (err_dup) ::CloseHandle(err_dup);
  if (!ok) {
    ::CloseHandle(in_write);
    ::CloseHandle(out_read);
    ::SetLastError(create_error);
    fail("CreateProcess " + argv[0]);
  }
  ::CloseHandle(pi.hThread);
  process p;
  p.pid_ = static_cast<int>(pi.dwProcessId);
  p.process_handle_ = pi.hProcess;
  p.stdin_fd_ = _open_osfhandle(reinterpret_cast<intptr_t>(in_write), _O_BINARY | _O_WRONLY);
  p.stdout_fd_ = _open_osfhandle(reinterpret_cast<intptr_t>(out_read), _O_BINARY | _O_RDONLY);
  if (p.stdin_fd_ < 0 || p.stdout_fd_ < 0) throw std::runtime_error("_open_osfhandle failed");
  return p;
}

process process::spawn_self(const std::string& child_name, std::vector<std::string> args) {
  std::wstring self(32768, L'\0');
  DWORD n = ::GetModuleFileNameW(nullptr, self.data(), static_cast<DWORD>(self.size()));
  if (n == 0 || n >= self.size()) fail("GetModuleFileName");
  self.resize(n);
  std::vector<std::string> argv = {narrow(self), "--npipe-child", child_name};
  argv.insert(argv.end(), args.begin(), args.end());
  return spawn(std::move(argv));
}

process::process(process&& other) noexcept {
  *this = std::move(other);
}

process& process::operator=(process&& other) noexcept {
  if (this != &other) {
    release();
    pid_ = std::exchange(other.pid_, -1);
    stdin_fd_ = std::exchange(other.stdin_fd_, -1);
    stdout_fd_ = std::exchange(other.stdout_fd_, -1);
    buffered_ = std::move(other.buffered_);
    status_ = std::exchange(other.status_, std::nullopt);
    process_handle_ = std::exchange(other.process_handle_, nullptr);
  }
  return *this;
}

process::~process() {
  release();
}

void process::release() noexcept {
  if (process_handle_) {
    if (!status_) {
      ::TerminateProcess(process_handle_, 137);
      ::WaitForSingleObject(process_handle_, INFINITE);
    }
    ::CloseHandle(process_handle_);
  }
  if (stdin_fd_ >= 0) _close(stdin_fd_);
  if (stdout_fd_ >= 0) _close(stdout_fd_);
  process_handle_ = nullptr;
  pid_ = stdin_fd_ = stdout_fd_ = -1;
}

void process::write_stdin(std::string_view data) {
  HANDLE h = to_handle(stdin_fd_);
  while (!data.empty()) {
    DWORD n = 0;
    DWORD chunk = static_cast<DWORD>(std::min<std::size_t>(data.size(), 1 << 20));
    if (!::WriteFile(h, data.data(), chunk, &n, nullptr)) fail("write to child stdin");
    data.remove_prefix(n);
  }
}

void process::close_stdin() {
  if (stdin_fd_ >= 0) _close(stdin_fd_);
  stdin_fd_ = -1;
}

namespace {

// One read of the overlapped stdout pipe: bytes appended to `out`; 0 with eof=false on timeout.
std::size_t read_some_stdout(HANDLE h, std::string& out, DWORD timeout_ms, bool& eof) {
  eof = false;
  char buf[65536];
  OVERLAPPED ov{};
  ov.hEvent = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
  DWORD n = 0;
  BOOL ok = ::ReadFile(h, buf, sizeof buf, nullptr, &ov);
  DWORD e = ok ? ERROR_SUCCESS : ::GetLastError();
  if (!ok && e == ERROR_IO_PENDING) {
    if (::WaitForSingleObject(ov.hEvent, timeout_ms) != WAIT_OBJECT_0) ::CancelIoEx(h, &ov);
    ok = ::GetOverlappedResult(h, &ov, &n, TRUE);
    e = ok ? ERROR_SUCCESS : ::GetLastError();
  } else if (ok) {
    ::GetOverlappedResult(h, &ov, &n, TRUE);
  }
  ::CloseHandle(ov.hEvent);
  if (ok) {
    out.append(buf, n);
    return n;
  }
  if (e == ERROR_OPERATION_ABORTED) return 0;
  eof = true;  // ERROR_BROKEN_PIPE: every writer closed; anything else ends the stream too
  return 0;
}

}  // namespace

bool process::read_line(std::string& line, std::chrono::milliseconds timeout) {
  auto end = clock::now() + timeout;
  for (;;) {
    auto nl = buffered_.find('\n');
    if (nl != std::string::npos) {
      line = buffered_.substr(0, nl);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      buffered_.erase(0, nl + 1);
      return true;
    }
    if (stdout_fd_ < 0) return false;
    bool eof = false;
    std::size_t n = read_some_stdout(to_handle(stdout_fd_), buffered_, remaining_ms(end), eof);
    if (eof) return false;
    if (n == 0 && clock::now() >= end) return false;
  }
}

std::string process::read_stdout_until_eof(std::chrono::milliseconds timeout) {
  auto end = clock::now() + timeout;
  std::string all = std::move(buffered_);
  buffered_.clear();
  for (;;) {
    bool eof = false;
    std::size_t n = read_some_stdout(to_handle(stdout_fd_), all, remaining_ms(end), eof);
    if (eof) return all;
    if (n == 0 && clock::now() >= end) {
      throw std::runtime_error("child stdout: no EOF within the timeout");
    }
  }
}

std::optional<int> process::wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  if (!process_handle_) return std::nullopt;
  DWORD w = ::WaitForSingleObject(process_handle_, static_cast<DWORD>(timeout.count()));
  if (w != WAIT_OBJECT_0) return std::nullopt;
  DWORD code = 0;
  if (!::GetExitCodeProcess(process_handle_, &code)) fail("GetExitCodeProcess");
  status_ = static_cast<int>(code);
  return status_;
}

void process::kill() {
  if (process_handle_ && !status_) ::TerminateProcess(process_handle_, 137);
}

// ---- blocking proof ----------------------------------------------------------------------------

bool wait_until_blocked(int /*pid*/, std::chrono::milliseconds limit) {
  std::this_thread::sleep_for(std::min(limit, std::chrono::milliseconds(200)));
  return true;
}

std::string temp_dir::pipe_name(std::string_view tag) const {
  // The same name for the same tag in the same directory: the directory's own unique leaf name,
  // kept to the portable characters, then the tag.
  std::string leaf = path_.substr(path_.find_last_of("\\/") + 1);
  std::string name;
  for (char c : leaf) {
    const bool portable = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    name += portable ? c : '_';
  }
  return name + "-" + std::string(tag);
}

int count_open_fds() {
  DWORD n = 0;
  if (!::GetProcessHandleCount(::GetCurrentProcess(), &n)) return -1;
  return static_cast<int>(n);
}

std::string cli_path() {
  return NPIPE_CLI_PATH;
}
std::string agent_path() {
  return NPIPE_AGENT_PATH;
}

}  // namespace npipe::test
