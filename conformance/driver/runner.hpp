// runner.hpp: runs one scenario under one role assignment, from private directory to cleanup.
//
// Around the body: a private directory (removed afterwards, whatever happened), a watchdog that
// kills every agent when the scenario overruns, the clean end of every agent, and the checks that
// nothing was left behind (names in the directory, processes in the agents' groups).
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "result.hpp"
#include "scenario.hpp"

namespace npipe::conformance {

struct run_options {
  std::chrono::milliseconds step_timeout{5000};
  std::chrono::milliseconds watchdog{30000};
  std::chrono::milliseconds pending_limit{3000};
  std::chrono::milliseconds pending_grace{300};
  std::string tmp_root;  // private directories are made inside it
  std::string log_root;  // logs/<test>/<role>.log
  // Requirement ID -> its platforms ("all", "posix", "windows", "posix, windows", ...): a run
  // whose agents' platform none of the scenario's requirements applies to is SKIP.
  std::map<std::string, std::string> req_platforms;
};

result run_scenario(const scenario_def& def,
                    const std::map<std::string, const implementation*>& roles,
                    const run_options& opts);

}  // namespace npipe::conformance
