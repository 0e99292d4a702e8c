// report_junit.cpp: junit.xml for CI systems. One testsuite per implementation set; a known
// deviation (expected FAIL seen) is a passing testcase whose system-out says so, N/A and SKIP are
// <skipped/>, every unexpected result is a <failure>.
#include <cstddef>
#include <fstream>
#include <map>

#include "report.hpp"

namespace npipe::conformance {
namespace {

// The length of the well-formed UTF-8 sequence (RFC 3629) starting at s[i], or 0 when there is
// none: agents' messages and stderr tails are quoted here and need not be UTF-8.
std::size_t utf8_sequence(const std::string& s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // no overlong forms
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

// Text for an XML 1.0 document: markup escaped, control characters and bytes that are not UTF-8
// replaced (either would make the whole junit.xml unreadable to a CI system).
std::string xml(const std::string& s) {
  std::string o;
  for (std::size_t i = 0; i < s.size();) {
    const char c = s[i];
    const std::size_t n = utf8_sequence(s, i);
    if (n == 0) {
      o += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
      continue;
    }
    if (n > 1) {
      o.append(s, i, n);
      i += n;
      continue;
    }
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t')
          o += '?';
        else
          o += c;
    }
    ++i;
  }
  return o;
}

}  // namespace

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
    o << " <testsuite name=\"" << xml(label) << "\" tests=\"" << list.size() << "\" failures=\""
      << failures << "\" skipped=\"" << skipped << "\" time=\"" << ms / 1000.0 << "\">\n";
    for (auto* x : list) {
      std::string reqs;
      for (const auto& q : x->requirements)
        reqs += (reqs.empty() ? "" : " ") + q;
      o << "  <testcase classname=\"" << xml(label) << "\" name=\"" << xml(x->test) << " ["
        << xml(reqs) << "]\" time=\"" << x->duration_ms / 1000.0 << "\">\n";
      if (x->unexpected())
        o << "   <failure type=\"" << xml(x->status) << "\" message=\"" << xml(x->status)
          << " (expected " << xml(x->expected) << ")\">" << xml(x->message) << "</failure>\n";
      else if (x->status == "N/A" || x->status == "SKIP")
        o << "   <skipped message=\"" << xml(x->message) << "\"/>\n";
      else if (x->expected != "PASS")
        o << "   <system-out>known deviation: " << xml(x->expectation_reason) << "\n"
          << xml(x->message) << "</system-out>\n";
      o << "  </testcase>\n";
    }
    o << " </testsuite>\n";
  }
  o << "</testsuites>\n";
}

}  // namespace npipe::conformance
