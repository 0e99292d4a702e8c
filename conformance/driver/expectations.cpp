// expectations.cpp: known-deviation files (see expectations.hpp).
#include "expectations.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace npipe::conformance {

bool glob_match(const std::string& p, const std::string& t) {
  // Iterative '*' matching with backtracking to the last star.
  std::size_t pi = 0, ti = 0, star = std::string::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (pi < p.size() && p[pi] == t[ti]) {
      ++pi;
      ++ti;
    } else if (star != std::string::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*')
    ++pi;
  return pi == p.size();
}

void expectations::load(const std::string& dir, const std::vector<std::string>& impls) {
  for (const auto& impl : impls)
    load_file(dir, impl + ".txt", impl, 0);
}

void expectations::load_file(const std::string& dir, const std::string& file,
                             const std::string& impl, int depth) {
  static const char* const statuses[] = {"FAIL", "CRASH", "TIMEOUT", "ERROR"};
  std::string path = dir + "/" + file;
  std::ifstream f(path);
  if (!f) {
    if (depth > 0) throw std::runtime_error("cannot read included " + path);
    return;
  }
  std::string line;
  for (int n = 1; std::getline(f, line); ++n) {
    auto hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    std::istringstream in(line);
    expectation e;
    if (!(in >> e.pattern)) continue;
    e.where = path + ":" + std::to_string(n);
    if (e.pattern == "@include") {
      // Shared lines (for example one file for every CPython version).
      std::string other;
      if (!(in >> other) || depth > 4) throw std::runtime_error(e.where + ": bad @include");
      load_file(dir, other, impl, depth + 1);
      continue;
    }
    if (!(in >> e.status >> e.requirement))
      throw std::runtime_error(e.where + ": expected SCENARIO STATUS REQUIREMENT reason");
    bool known = false;
    for (const char* s : statuses)
      known = known || e.status == s;
    if (!known) throw std::runtime_error(e.where + ": unknown status " + e.status);
    std::getline(in >> std::ws, e.reason);
    if (e.reason.empty()) throw std::runtime_error(e.where + ": a known failure needs a reason");
    auto at = e.pattern.find('@');
    if (at != std::string::npos) {
      e.role = e.pattern.substr(at + 1);
      e.pattern.erase(at);
    }
    by_impl_[impl].push_back(e);
  }
}

void expectations::apply(result& r) const {
  for (const auto& [role, impl] : r.roles) {
    auto it = by_impl_.find(impl);
    if (it == by_impl_.end()) continue;
    for (const auto& e : it->second) {
      if (!e.role.empty() && e.role != role) continue;
      if (!glob_match(e.pattern, r.test)) continue;
      used_[&e] = true;
      r.expected = e.status;
      r.expectation_requirement = e.requirement;
      r.expectation_reason = impl + ": " + e.reason + " (" + e.requirement + ", " + e.where + ")";
      return;
    }
  }
}

std::vector<const expectation*> expectations::unused() const {
  std::vector<const expectation*> out;
  for (const auto& [impl, list] : by_impl_)
    for (const auto& e : list)
      if (!used_.count(&e)) out.push_back(&e);
  return out;
}

}  // namespace npipe::conformance
