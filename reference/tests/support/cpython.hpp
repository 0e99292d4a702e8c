// cpython.hpp: the CPython interpreters the interop tests run against (POSIX), found the way a
// user installs them, never at a fixed location:
//   1. $PYENV_ROOT/versions/3.X*/bin/python3, or `pyenv root`'s versions when PYENV_ROOT is unset
//      (the interpreter itself, not a shim, so its pid is the interpreter's);
//   2. python3.X on PATH (pyenv's shims directory skipped), for minors pyenv does not have.
// A test that needs a CPython that is not there fails with cpython_missing()'s line; it never
// passes silently.
#pragma once

#ifndef _WIN32

#include <glob.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace npipe::test {

// $PYENV_ROOT, else what `pyenv root` prints (pyenv on PATH), else "".
inline std::string pyenv_root() {
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

// Minor version -> interpreters of that minor, pyenv's (every patch release, the newest last) or
// else the one on PATH; only minors in [min_minor, max_minor].
inline std::map<int, std::vector<std::string>> find_cpythons(int min_minor, int max_minor) {
  std::map<int, std::vector<std::string>> found;
  std::string root = pyenv_root();
  if (!root.empty()) {
    glob_t g{};
    if (::glob((root + "/versions/3.*/bin/python3").c_str(), 0, nullptr, &g) == 0) {
      static const std::regex ver(R"(/versions/3\.(\d+)\.(\d+)[^/]*/bin/python3$)");
      std::map<int, std::map<int, std::string>> by_patch;  // minor -> patch -> path
      for (std::size_t i = 0; i < g.gl_pathc; ++i) {
        std::cmatch m;
        if (std::regex_search(g.gl_pathv[i], m, ver) && ::access(g.gl_pathv[i], X_OK) == 0) {
          int minor = std::stoi(m[1].str());
          if (minor >= min_minor && minor <= max_minor)
            by_patch[minor][std::stoi(m[2].str())] = g.gl_pathv[i];
        }
      }
      for (const auto& [minor, paths] : by_patch)
        for (const auto& [patch, p] : paths)
          found[minor].push_back(p);
    }
    ::globfree(&g);
  }
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty() || (dir.size() >= 6 && dir.compare(dir.size() - 6, 6, "/shims") == 0)) continue;
    for (int minor = min_minor; minor <= max_minor; ++minor) {
      std::string p = dir + "/python3." + std::to_string(minor);
      if (!found.count(minor) && ::access(p.c_str(), X_OK) == 0) found[minor].push_back(p);
    }
  }
  return found;
}

// One line naming the missing interpreter, where it was looked for, and how to get it.
inline std::string cpython_missing(const std::string& which, const std::string& why) {
  std::string root = pyenv_root();
  return "no " + which + " found (looked in " +
         (root.empty() ? std::string("pyenv: neither PYENV_ROOT nor `pyenv root`")
                       : "$PYENV_ROOT/versions = " + root + "/versions") +
         ", then python3.X on PATH): " + why +
         "; install it with pyenv (pyenv install 3.X; set PYENV_ROOT) or put python3.X on PATH";
}

}  // namespace npipe::test

#endif  // _WIN32
