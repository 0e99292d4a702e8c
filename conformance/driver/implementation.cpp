// implementation.cpp: implementations.conf, --impl and CPython discovery (see implementation.hpp).
#include "implementation.hpp"

#include <glob.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

namespace npipe::conformance {

std::string implementation::version() const {
  return hello.is_object() && hello.contains("version") && hello["version"].is_string()
             ? hello["version"].get<std::string>()
             : "";
}

std::string implementation::platform() const {
  return hello.is_object() && hello.contains("platform") && hello["platform"].is_string()
             ? hello["platform"].get<std::string>()
             : "";
}

bool implementation::offers(const std::string& profile) const {
  if (!hello.is_object() || !hello.contains("profiles") || !hello["profiles"].is_array())
    return false;
  for (const auto& p : hello["profiles"])
    if (p == profile) return true;
  return false;
}

std::string host_platform() {
  utsname u{};
  if (uname(&u) != 0) return "unknown";
  std::string s = u.sysname;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool platform_matches(const std::string& filter, const std::string& host) {
  std::istringstream in(filter);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item == "all" || item == host) return true;
    if (item == "posix" && host != "windows") return true;
  }
  return false;
}

namespace {

std::string expand(std::string s, const load_options& o) {
  const std::pair<const char*, const std::string*> vars[] = {{"${SOURCE_DIR}", &o.source_dir},
                                                             {"${BIN_DIR}", &o.bin_dir}};
  for (const auto& [var, value] : vars)
    for (auto p = s.find(var); p != std::string::npos; p = s.find(var, p + value->size()))
      s.replace(p, std::string(var).size(), *value);
  return s;
}

bool is_executable(const std::string& p) {
  return access(p.c_str(), X_OK) == 0;
}

bool on_path(const std::string& cmd) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (!dir.empty() && is_executable(dir + "/" + cmd)) return true;
  return false;
}

// One prerequisite of needs=: "A|B|C" is met by any one of its alternatives, each an absolute
// path that must exist or a command on PATH. "" when met, else why not (for a missing command,
// with the scripts/install-deps group that installs it).
std::string unmet(const std::string& need, const std::string& deps) {
  std::istringstream alternatives(need);
  std::vector<std::string> tried;
  bool a_command = false;  // a package provides it: name the install-deps group
  for (std::string alt; std::getline(alternatives, alt, '|');) {
    if (alt.empty()) continue;
    bool path = alt.find('/') != std::string::npos;
    if (path ? access(alt.c_str(), F_OK) == 0 : on_path(alt)) return "";
    a_command = a_command || !path;
    tried.push_back(alt);
  }
  std::string why;
  if (tried.size() == 1) {
    why = tried[0] + (tried[0].find('/') != std::string::npos ? " is missing" : " is not on PATH");
  } else {
    for (const auto& t : tried)
      why += (why.empty() ? "none of " : ", ") + t;
    why += " is there";
  }
  if (!deps.empty() && a_command) why += "; install it: scripts/install-deps " + deps;
  return why;
}

// $PYENV_ROOT, else what `pyenv root` prints (pyenv on PATH), else "": where a user's pyenv keeps
// its interpreters. Never a fixed location.
std::string pyenv_root() {
  const char* env = std::getenv("PYENV_ROOT");
  if (env && *env) return env;
  std::string out;
  if (FILE* p = ::popen("pyenv root 2>/dev/null", "r")) {
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p))
      out += buf;
    ::pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
    out.pop_back();
  return out;
}

// One interpreter per minor version: pyenv's own binaries first (the newest patch release; no
// shim in between, so the agent's pid is the interpreter's), then python3.X on PATH for versions
// pyenv lacks.
std::map<int, std::string> find_cpythons(int min_minor) {
  std::map<int, std::string> found;
  std::map<int, int> patch_of;
  std::string root = pyenv_root();
  glob_t g{};
  if (!root.empty() && glob((root + "/versions/3.*/bin/python3").c_str(), 0, nullptr, &g) == 0) {
    std::regex ver(R"(/versions/3\.(\d+)\.(\d+)[^/]*/bin/python3$)");
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      std::cmatch m;
      std::string p = g.gl_pathv[i];
      if (std::regex_search(p.c_str(), m, ver) && is_executable(p)) {
        int minor = std::stoi(m[1].str());
        int patch = std::stoi(m[2].str());
        if (minor < min_minor || (found.count(minor) && patch_of[minor] >= patch)) continue;
        found[minor] = p;
        patch_of[minor] = patch;
      }
    }
  }
  globfree(&g);
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty() || (dir.size() >= 6 && dir.compare(dir.size() - 6, 6, "/shims") == 0)) continue;
    for (int minor = min_minor; minor < 40; ++minor) {
      std::string p = dir + "/python3." + std::to_string(minor);
      if (!found.count(minor) && is_executable(p)) found[minor] = p;
    }
  }
  return found;
}

}  // namespace

std::vector<implementation> load_implementations(const load_options& opts,
                                                 std::vector<std::string>& notes) {
  std::vector<implementation> out;
  std::set<std::string> names;
  const std::string host = host_platform();
  auto add = [&](implementation impl) {
    if (names.count(impl.name)) {
      // A later definition (the command line) replaces an earlier one of the same name.
      out.erase(std::remove_if(out.begin(), out.end(),
                               [&](const implementation& i) { return i.name == impl.name; }),
                out.end());
    }
    names.insert(impl.name);
    out.push_back(std::move(impl));
  };

  std::ifstream conf(opts.conf_path);
  if (!conf) throw std::runtime_error("cannot read " + opts.conf_path);
  std::string line;
  for (int n = 1; std::getline(conf, line); ++n) {
    auto hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    std::istringstream in(line);
    std::string first;
    if (!(in >> first)) continue;
    std::string where = opts.conf_path + ":" + std::to_string(n);
    if (first == "@cpython") {
      // "@cpython MIN_MINOR PLATFORMS": one fifo and one connection column per interpreter.
      int min_minor = 8;
      std::string plats = "posix";
      in >> min_minor >> plats;
      if (!opts.discover_cpython) continue;
      if (!platform_matches(plats, host)) continue;
      for (const auto& [minor, python] : find_cpythons(min_minor)) {
        for (const char* kind : {"fifo", "connection"}) {
          std::string script = opts.source_dir + "/harness/agents/cpython_" + kind + ".py";
          if (access(script.c_str(), R_OK) != 0) {
            notes.push_back("skipped cpython-" + std::string(kind) + ": " + script + " missing");
            continue;
          }
          implementation impl;
          impl.name = "cpython-" + std::string(kind) + "-3." + std::to_string(minor);
          impl.command = python + " " + script;
          impl.platforms = plats;
          impl.origin = "auto (" + python + ")";
          add(std::move(impl));
        }
      }
      continue;
    }
    implementation impl;
    impl.name = first;
    std::string kind;
    if (!(in >> impl.platforms >> kind) || (kind != "reference" && kind != "impl"))
      throw std::runtime_error(where + ": expected NAME PLATFORMS reference|impl COMMAND");
    impl.reference = kind == "reference";
    // KEY=VALUE options, then the command.
    for (;;) {
      in >> std::ws;
      auto at = in.tellg();
      std::string word;
      if (!(in >> word)) break;
      auto eq = word.find('=');
      std::string key = eq == std::string::npos ? "" : word.substr(0, eq);
      if (key != "needs" && key != "wineprefix" && key != "slow" && key != "deps") {
        in.clear();
        in.seekg(at);
        break;
      }
      std::string value = expand(word.substr(eq + 1), opts);
      if (key == "needs") {
        std::istringstream items(value);
        for (std::string item; std::getline(items, item, ',');)
          if (!item.empty()) impl.needs.push_back(item);
      } else if (key == "wineprefix") {
        impl.wineprefix = value;
      } else if (key == "deps") {
        impl.deps = value;
      } else {
        impl.slow = std::atoi(value.c_str());
        if (impl.slow < 1 || impl.slow > 100) throw std::runtime_error(where + ": slow=1..100");
      }
    }
    std::getline(in, impl.command);
    impl.command = expand(impl.command, opts);
    impl.origin = where;
    if (impl.command.empty()) throw std::runtime_error(where + ": no command");
    if (!platform_matches(impl.platforms, host)) {
      notes.push_back("skipped " + impl.name + ": platform " + impl.platforms + " is not " + host);
      continue;
    }
    for (const auto& need : impl.needs) {
      impl.not_run = unmet(need, impl.deps);
      if (!impl.not_run.empty()) break;
    }
    add(std::move(impl));
  }
  for (const auto& arg : opts.extra) {
    auto eq = arg.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size())
      throw std::runtime_error("--impl wants 'name=command line', got '" + arg + "'");
    implementation impl;
    impl.name = arg.substr(0, eq);
    impl.command = expand(arg.substr(eq + 1), opts);
    impl.platforms = "all";
    impl.origin = "--impl";
    add(std::move(impl));
  }
  return out;
}

}  // namespace npipe::conformance
