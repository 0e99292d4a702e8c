// report.hpp: the three reports of a run (report.json, junit.xml, report.html) and the console
// summary. report.json's format is documented in spec/driver-protocol.md ("The report").
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "implementation.hpp"
#include "requirements.hpp"
#include "result.hpp"

namespace npipe::conformance {

struct run_info {
  std::string os, kernel, compiler, time, driver_version, requirements_source, command_line;
  long duration_ms = 0;
  std::vector<std::string> notes;  // skipped implementations, stale expectations, ...
};

struct report {
  run_info info;
  std::vector<implementation> implementations;
  std::vector<requirement> requirements;
  std::vector<result> results;
};

void write_json(const report& r, const std::string& path);
void write_junit(const report& r, const std::string& path);
void write_html(const report& r, const std::string& path);
// The first screen of report.html: implementations x requirement families, conformance levels.
std::string landing_html(const report& r);
// The compact table: one line per implementation, then the unexpected results.
void print_summary(const report& r, std::ostream& out);

}  // namespace npipe::conformance
