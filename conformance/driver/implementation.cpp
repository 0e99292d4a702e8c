// implementation.cpp: implementations.conf, --impl and CPython discovery (see implementation.hpp).
#include "implementation.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "platform.hpp"

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
  return platform::host_platform();
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
    std::error_code ec;
    if (path ? std::filesystem::exists(alt, ec) : platform::on_path(alt)) return "";
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
      // "@cpython MIN_MINOR PLATFORMS [KINDS]": a column per interpreter and kind (default
      // "fifo,connection"). On a Windows host the names say so: cpython-connection-windows-3.X
      // (PipeListener/PipeClient over named pipes, not the POSIX columns' AF_UNIX sockets, so
      // they have expectations of their own).
      int min_minor = 8;
      std::string plats = "posix";
      std::string kinds = "fifo,connection";
      in >> min_minor >> plats;
      in >> kinds;
      if (!opts.discover_cpython) continue;
      if (!platform_matches(plats, host)) continue;
      std::string suffix = host == "windows" ? "-windows" : "";
      for (const auto& [minor, python] : platform::find_cpythons(min_minor)) {
        std::istringstream kind_list(kinds);
        for (std::string kind; std::getline(kind_list, kind, ',');) {
          if (kind != "fifo" && kind != "connection")
            throw std::runtime_error(where + ": unknown @cpython kind " + kind);
          std::string script = opts.source_dir + "/harness/agents/cpython_" + kind + ".py";
          std::error_code ec;
          if (!std::filesystem::exists(script, ec)) {
            notes.push_back("skipped cpython-" + kind + ": " + script + " missing");
            continue;
          }
          implementation impl;
          impl.name = "cpython-" + kind + suffix + "-3." + std::to_string(minor);
          impl.command = python + " " + platform::quote(script);
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
