// requirements.hpp: the requirement catalogue of spec/, for validating citations and the report.
#pragma once

#include <string>
#include <vector>

namespace npipe::conformance {

struct requirement {
  std::string id;
  std::string strength;  // MUST, SHOULD, MAY, PLATFORM-DEFINED, WITHDRAWN
  std::string profile;   // "fifo", "channel" or "fifo, channel"
  std::string platforms;
  std::string title;
};

// Asks spec/tools/requirements.py (the registry's one parser) for the catalogue; when that tool
// cannot run, reads the requirement lines of spec/*.md itself. `how` says which was used.
std::vector<requirement> load_requirements(const std::string& source_dir, const std::string& python,
                                           std::string& how);

}  // namespace npipe::conformance
