// report_summary.cpp: the console summary: a compact table per implementation, then every
// unexpected result on one line each.
#include <iomanip>
#include <map>
#include <set>

#include "report.hpp"

namespace npipe::conformance {

void print_summary(const report& r, std::ostream& out) {
  struct counts {
    int pass = 0, fail = 0, known = 0, na = 0, skip = 0, other = 0, unexpected = 0;
  };
  std::map<std::string, counts> by;
  for (const auto& i : r.implementations)
    by[i.name];
  for (const auto& x : r.results) {
    std::set<std::string> impls;
    for (const auto& [role, impl] : x.roles)
      impls.insert(impl);
    for (const auto& impl : impls) {
      auto& c = by[impl];
      if (x.unexpected()) ++c.unexpected;
      if (x.status == "PASS")
        ++c.pass;
      else if (x.status == "N/A")
        ++c.na;
      else if (x.status == "SKIP")
        ++c.skip;
      else if (!x.unexpected())
        ++c.known;
      else if (x.status == "FAIL")
        ++c.fail;
      else
        ++c.other;
    }
  }
  std::size_t w = 14;
  for (const auto& [name, c] : by)
    w = std::max(w, name.size());
  out << "\n"
      << std::left << std::setw(static_cast<int>(w)) << "implementation" << std::right
      << "   pass   fail  known    n/a   skip  error  unexpected\n";
  for (const auto& [name, c] : by) {
    std::string err;
    for (const auto& i : r.implementations)
      if (i.name == name && !i.probe_error.empty()) err = "  (did not start)";
    out << std::left << std::setw(static_cast<int>(w)) << name << std::right << std::setw(7)
        << c.pass << std::setw(7) << c.fail << std::setw(7) << c.known << std::setw(7) << c.na
        << std::setw(7) << c.skip << std::setw(7) << c.other << std::setw(12) << c.unexpected << err
        << "\n";
  }
  int unexpected = 0;
  for (const auto& x : r.results)
    unexpected += x.unexpected();
  out << r.results.size() << " runs in " << r.info.duration_ms / 1000.0 << " s; " << unexpected
      << " unexpected\n";
  if (unexpected) {
    out << "\nunexpected results:\n";
    for (const auto& x : r.results) {
      if (!x.unexpected()) continue;
      std::string reqs;
      for (const auto& q : x.requirements)
        reqs += (reqs.empty() ? "" : " ") + q;
      std::string msg = x.message.size() > 300 ? x.message.substr(0, 300) + "..." : x.message;
      out << "  " << x.status << " (expected " << x.expected << ") " << x.test << " ["
          << x.roles_label() << "] {" << reqs << "}: " << msg << "\n";
    }
  }
  for (const auto& n : r.info.notes)
    out << "note: " << n << "\n";
}

}  // namespace npipe::conformance
