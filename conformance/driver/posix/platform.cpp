// posix/platform.cpp: the driver's operating-system needs on POSIX (see platform.hpp).
#include "platform.hpp"

#include <ftw.h>
#include <glob.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __APPLE__
#include <mach-o/dyld.h>
#endif

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace npipe::conformance::platform {

void init() {
  ::signal(SIGPIPE, SIG_IGN);
}

void on_interrupt(std::function<void()> cleanup) {
  // Blocked in every thread (this runs before any other thread starts) and taken by one thread
  // of its own with sigwait, so the clean-up runs in normal context; agents get them back at
  // their default (posix_spawn's sigdefault and sigmask, see process.cpp).
  static sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([cleanup = std::move(cleanup)] {
    int sig = 0;
    sigwait(&set, &sig);
    cleanup();
    std::fprintf(stderr, "npipe-conformance: stopped by signal %d\n", sig);
    _exit(128 + sig);
  }).detach();
}

std::string make_run_dir() {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(tmpdir && std::strlen(tmpdir) < 40 ? tmpdir : "/tmp") + "/npc-XXXXXX";
  if (!::mkdtemp(tmpl.data())) return "";
  return tmpl;
}

bool make_private_dir(const std::string& path) {
  return ::mkdir(path.c_str(), 0700) == 0;
}

namespace {
int remove_one(const char* path, const struct stat*, int, struct FTW*) {
  ::remove(path);
  return 0;
}
}  // namespace

void remove_tree(const std::string& dir) noexcept {
  // Deepest first (FTW_DEPTH), never following a symlink (FTW_PHYS).
  ::nftw(dir.c_str(), remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

std::string self_dir() {
  std::error_code ec;
#if defined(__APPLE__)
  char buf[4096];
  uint32_t size = sizeof buf;
  if (_NSGetExecutablePath(buf, &size) == 0) {
    auto p = std::filesystem::canonical(buf, ec);
    if (!ec) return p.parent_path().string();
  }
  return ".";
#else
  // Linux; the BSDs mount procfs only on request, and then fall back to ".".
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : p.parent_path().string();
#endif
}

std::string os_name() {
  std::ifstream f("/etc/os-release");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      std::string v = line.substr(12);
      if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
  utsname u{};
  ::uname(&u);
#ifdef __APPLE__
  std::string version = capture("sw_vers -productVersion 2>/dev/null");
  while (!version.empty() && version.back() == '\n')
    version.pop_back();
  if (!version.empty()) return "macOS " + version;
#endif
  return u.sysname;
}

std::string kernel() {
  utsname u{};
  ::uname(&u);
  return std::string(u.sysname) + " " + u.release + " " + u.machine;
}

std::string host_platform() {
  utsname u{};
  if (::uname(&u) != 0) return "unknown";
  std::string s = u.sysname;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool is_executable(const std::string& path) {
  struct stat st {};
  return ::access(path.c_str(), X_OK) == 0 && ::stat(path.c_str(), &st) == 0 &&
         !S_ISDIR(st.st_mode);
}

namespace {
std::vector<std::string> path_dirs() {
  std::vector<std::string> out;
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (!dir.empty()) out.push_back(dir);
  return out;
}
}  // namespace

bool on_path(const std::string& command) {
  for (const auto& dir : path_dirs())
    if (is_executable(dir + "/" + command)) return true;
  return false;
}

std::string quote(const std::string& arg) {
  bool plain = !arg.empty() && arg.find_first_not_of(
                                   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
                                   "TUVWXYZ0123456789/._-+=:,@%") == std::string::npos;
  if (plain) return arg;
  std::string o = "'";
  for (char c : arg)
    o += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return o + "'";
}

int run_quiet(const std::string& command_line) {
  int rc = std::system((command_line + " >/dev/null 2>&1").c_str());
  return rc == -1 ? -1 : (WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc));
}

std::string capture(const std::string& command_line) {
  std::string out;
  if (FILE* p = ::popen(command_line.c_str(), "r")) {
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p))
      out += buf;
    ::pclose(p);
  }
  return out;
}

const char* null_stderr() {
  return " 2>/dev/null";
}

std::string default_python() {
  // Debian's own (pytest and the spec tools run under it); elsewhere the first python3 on PATH.
  return is_executable("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

namespace {

// $PYENV_ROOT, else what `pyenv root` prints (pyenv on PATH), else "": where a user's pyenv keeps
// its interpreters. Never a fixed location.
std::string pyenv_root() {
  const char* env = std::getenv("PYENV_ROOT");
  if (env && *env) return env;
  std::string out = on_path("pyenv") ? capture("pyenv root 2>/dev/null") : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
    out.pop_back();
  return out;
}

}  // namespace

std::map<int, std::string> find_cpythons(int min_minor) {
  std::map<int, std::string> found;
  std::map<int, int> patch_of;
  std::string root = pyenv_root();
  glob_t g{};
  if (!root.empty() && ::glob((root + "/versions/3.*/bin/python3").c_str(), 0, nullptr, &g) == 0) {
    std::regex ver(R"(/versions/3\.(\d+)\.(\d+)[^/]*/bin/python3$)");
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      std::cmatch m;
      std::string p = g.gl_pathv[i];
      if (std::regex_search(p.c_str(), m, ver) && is_executable(p)) {
        int minor = std::stoi(m[1].str());
        int patch = std::stoi(m[2].str());
        if (minor < min_minor || (found.count(minor) && patch_of[minor] >= patch)) continue;
        found[minor] = quote(p);
        patch_of[minor] = patch;
      }
    }
  }
  ::globfree(&g);
  for (const auto& dir : path_dirs()) {
    if (dir.size() >= 6 && dir.compare(dir.size() - 6, 6, "/shims") == 0) continue;
    for (int minor = min_minor; minor < 40; ++minor) {
      std::string p = dir + "/python3." + std::to_string(minor);
      if (!found.count(minor) && is_executable(p)) found[minor] = quote(p);
    }
  }
  return found;
}

void shutdown_socket(int fd) noexcept {
  ::shutdown(fd, SHUT_RDWR);
}

void close_socket(int fd) noexcept {
  ::close(fd);
}

}  // namespace npipe::conformance::platform
