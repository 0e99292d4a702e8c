// report_junit.cpp: junit.xml for CI systems. One testsuite per implementation set; a known
// deviation (expected FAIL seen) is a passing testcase whose system-out says so, N/A and SKIP are
// <skipped/>, every unexpected result is a <failure>.
#include <cstddef>
#include <fstream>
#include <map>

#include "markup.hpp"
#include "report.hpp"

namespace npipe::conformance {

void write_junit(const report& r, const std::string& path) {
  std::map<std::string, std::vector<const result*>> suites;
  for (const auto& x : r.results)
    suites[x.roles_label()].push_back(&x);
  std::ofstream o(path);
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"npipe-conformance\">\n";
  for (const auto& [label, list] : suites) {
    int failures = 0, skipped = 0;
    long ms = 0;
    for (auto* x : list) {
      failures += x->unexpected();
      skipped += !x->unexpected() && (x->status == "N/A" || x->status == "SKIP");
      ms += x->duration_ms;
    }
    o << " <testsuite name=\"" << markup_escape(label) << "\" tests=\"" << list.size()
      << "\" failures=\"" << failures << "\" skipped=\"" << skipped << "\" time=\"" << ms / 1000.0
      << "\">\n";
    for (auto* x : list) {
      std::string reqs;
      for (const auto& q : x->requirements)
        reqs += (reqs.empty() ? "" : " ") + q;
      o << "  <testcase classname=\"" << markup_escape(label) << "\" name=\""
        << markup_escape(x->test) << " [" << markup_escape(reqs) << "]\" time=\""
        << x->duration_ms / 1000.0 << "\">\n";
      if (x->unexpected())
        o << "   <failure type=\"" << markup_escape(x->status) << "\" message=\""
          << markup_escape(x->status) << " (expected " << markup_escape(x->expected) << ")\">"
          << markup_escape(x->message) << "</failure>\n";
      else if (x->status == "N/A" || x->status == "SKIP")
        o << "   <skipped message=\"" << markup_escape(x->message) << "\"/>\n";
      else if (x->expected != "PASS")
        o << "   <system-out>known deviation: " << markup_escape(x->expectation_reason) << "\n"
          << markup_escape(x->message) << "</system-out>\n";
      o << "  </testcase>\n";
    }
    o << " </testsuite>\n";
  }
  o << "</testsuites>\n";
}

}  // namespace npipe::conformance
