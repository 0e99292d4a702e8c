// options.hpp: the command line of npipe-conformance.
#pragma once

#include <string>
#include <vector>

#include "runner.hpp"

namespace npipe::conformance {

struct options {
  std::string source_dir;  // the npipe checkout (compiled in, --source-dir overrides)
  std::string bin_dir;     // where npipe-agent lives (the driver's own directory by default)
  std::string conf;        // implementations.conf
  std::string expectations_dir;
  std::string report_dir = "build/conformance";
  std::string python;                // runs spec/tools/requirements.py
  std::vector<std::string> impls;    // --impl name=command
  std::vector<std::string> only;     // --only: the implementations under test
  std::string reference;             // --reference: the partner of two-role scenarios
  std::vector<std::string> filters;  // --filter GLOB on scenario names
  bool matrix = false;
  bool cpython = true;
  bool list = false;
  int jobs = 4;  // scenarios run at once (agents mostly sleep; their start-up is the cost)
  run_options run;
};

// Parses argv (after GoogleTest removed its own flags). Prints usage and exits on --help or on
// an error (status 2).
options parse_options(int argc, char** argv);

}  // namespace npipe::conformance
