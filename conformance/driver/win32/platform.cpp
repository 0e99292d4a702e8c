// win32/platform.cpp: the driver's operating-system needs on Windows (see platform.hpp).
#include "platform.hpp"

#ifndef NOMINMAX
#define NOMINMAX  // std::min, not windows.h's macro
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <mutex>

#include "win32/text.hpp"

namespace npipe::conformance::platform {

namespace fs = std::filesystem;

void init() {
  // No error dialog boxes for a crashing agent (they would hang a CI job); children inherit it.
  SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX | SEM_NOOPENFILEERRORBOX);
}

namespace {
std::function<void()>* g_cleanup = nullptr;
std::once_flag g_once;

BOOL WINAPI on_console_event(DWORD event) {
  if (event != CTRL_C_EVENT && event != CTRL_BREAK_EVENT && event != CTRL_CLOSE_EVENT) return FALSE;
  // Runs in a thread the system starts for the event: normal context.
  std::call_once(g_once, [] {
    if (g_cleanup) (*g_cleanup)();
    std::fprintf(stderr, "npipe-conformance: stopped by a console control event\n");
  });
  ExitProcess(130);
}
}  // namespace

void on_interrupt(std::function<void()> cleanup) {
  g_cleanup = new std::function<void()>(std::move(cleanup));
  SetConsoleCtrlHandler(on_console_event, TRUE);
}

std::string make_run_dir() {
  std::error_code ec;
  fs::path base = fs::temp_directory_path(ec);
  if (ec) return "";
  for (unsigned attempt = 0; attempt < 100; ++attempt) {
    char name[64];
    std::snprintf(name, sizeof name, "npc-%lu-%lx", GetCurrentProcessId(),
                  static_cast<unsigned long>(GetTickCount64() + attempt * 7919u) & 0xffffffu);
    fs::path p = base / name;
    if (fs::create_directory(p, ec)) return win32::narrow(p.wstring());
  }
  return "";
}

bool make_private_dir(const std::string& path) {
  // The run directory is under the user's own %TEMP%, whose ACL the new directory inherits.
  std::error_code ec;
  return fs::create_directory(fs::path(win32::widen(path)), ec);
}

void remove_tree(const std::string& dir) noexcept {
  std::error_code ec;
  fs::remove_all(fs::path(win32::widen(dir)), ec);  // removes links, never follows them
}

std::string self_dir() {
  wchar_t buf[32768];
  DWORD n = GetModuleFileNameW(nullptr, buf, static_cast<DWORD>(std::size(buf)));
  if (n == 0 || n >= std::size(buf)) return ".";
  return win32::narrow(fs::path(std::wstring(buf, n)).parent_path().wstring());
}

namespace {

// The real version (GetVersionEx lies to programs without a manifest), and Wine's when it runs
// under Wine (ntdll exports wine_get_version there).
std::string version_text() {
  using rtl_get_version = LONG(WINAPI*)(OSVERSIONINFOW*);
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  OSVERSIONINFOW v{};
  v.dwOSVersionInfoSize = sizeof v;
  auto get = ntdll ? reinterpret_cast<rtl_get_version>(
                         reinterpret_cast<void*>(GetProcAddress(ntdll, "RtlGetVersion")))
                   : nullptr;
  std::string s = "Windows";
  if (get && get(&v) == 0)
    s += " " + std::to_string(v.dwMajorVersion) + "." + std::to_string(v.dwMinorVersion) + "." +
         std::to_string(v.dwBuildNumber);
  using wine_get_version = const char*(CDECL*)();
  auto wine = ntdll ? reinterpret_cast<wine_get_version>(
                          reinterpret_cast<void*>(GetProcAddress(ntdll, "wine_get_version")))
                    : nullptr;
  if (wine) s += std::string(" (Wine ") + wine() + ")";
  return s;
}

}  // namespace

std::string os_name() {
  return version_text();
}

std::string kernel() {
  SYSTEM_INFO si{};
  GetNativeSystemInfo(&si);
  const char* arch = si.wProcessorArchitecture == PROCESSOR_ARCHITECTURE_AMD64   ? "x86_64"
                     : si.wProcessorArchitecture == PROCESSOR_ARCHITECTURE_ARM64 ? "arm64"
                                                                                 : "x86";
  return version_text() + " " + arch;
}

std::string host_platform() {
  return "windows";
}

bool is_executable(const std::string& path) {
  for (const char* ext : {"", ".exe"}) {
    DWORD a = GetFileAttributesW(win32::widen(path + ext).c_str());
    if (a != INVALID_FILE_ATTRIBUTES && !(a & FILE_ATTRIBUTE_DIRECTORY)) return true;
  }
  return false;
}

bool on_path(const std::string& command) {
  wchar_t found[MAX_PATH];
  return SearchPathW(nullptr, win32::widen(command).c_str(), L".exe", MAX_PATH, found, nullptr) > 0;
}

std::string quote(const std::string& arg) {
  // The rules CreateProcess's callers follow and the C runtime parses (CommandLineToArgvW):
  // backslashes are literal unless they precede a quote.
  if (!arg.empty() && arg.find_first_of(" \t\n\v\"") == std::string::npos) return arg;
  std::string o = "\"";
  for (std::size_t i = 0;; ++i) {
    std::size_t slashes = 0;
    while (i < arg.size() && arg[i] == '\\') {
      ++i;
      ++slashes;
    }
    if (i == arg.size()) {
      o.append(slashes * 2, '\\');
      break;
    }
    if (arg[i] == '"')
      o.append(slashes * 2 + 1, '\\');
    else
      o.append(slashes, '\\');
    o += arg[i];
  }
  return o + "\"";
}

int run_quiet(const std::string& command_line) {
  return std::system((command_line + " >NUL 2>&1").c_str());
}

std::string capture(const std::string& command_line) {
  std::string out;
  if (FILE* p = _popen(command_line.c_str(), "r")) {
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p))
      out += buf;
    _pclose(p);
  }
  return out;
}

const char* null_stderr() {
  return " 2>NUL";
}

std::string default_python() {
  return "python";
}

namespace {

std::string first_line(std::string s) {
  auto nl = s.find_first_of("\r\n");
  if (nl != std::string::npos) s.erase(nl);
  return s;
}

}  // namespace

std::map<int, std::string> find_cpythons(int min_minor) {
  std::map<int, std::string> found;
  const std::string ask = " -c \"import sys; print(sys.version_info[1], sys.executable)\"";
  auto add = [&](const std::string& reply) {
    std::string line = first_line(reply);
    auto space = line.find(' ');
    if (space == std::string::npos) return;
    int minor = std::atoi(line.substr(0, space).c_str());
    std::string exe = line.substr(space + 1);
    if (minor >= min_minor && !found.count(minor) && is_executable(exe)) found[minor] = quote(exe);
  };
  // The launcher knows every registered installation (PEP 514), one minor at a time.
  if (on_path("py"))
    for (int minor = min_minor; minor < 20; ++minor)
      add(capture("py -3." + std::to_string(minor) + ask + null_stderr()));
  // Then whichever python.exe is first on PATH (actions/setup-python puts its last one there).
  if (on_path("python")) add(capture("python" + ask + null_stderr()));
  return found;
}

void shutdown_socket(int) noexcept {
  // The driver's raw peers are POSIX-only (raw_peer.hpp): no socket is ever adopted here.
}

void close_socket(int) noexcept {}

}  // namespace npipe::conformance::platform
