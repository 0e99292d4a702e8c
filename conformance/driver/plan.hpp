// plan.hpp: which runs to make: every scenario under every role assignment.
//
// One-role scenarios run once per implementation under test. Two-role scenarios run each
// implementation X against itself and against the reference R of its platform, in both role
// assignments: (X,X), (X,R), (R,X). With --matrix: every ordered pair of the implementations.
// Runs where an implementation under test lacks the scenario's profile are left out (the report
// shows those cells empty); runs of an implementation that did not start are kept, as ERROR.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "implementation.hpp"
#include "scenario.hpp"

namespace npipe::conformance {

struct planned_run {
  const scenario_def* def;
  std::map<std::string, const implementation*> roles;
};

// Agents on Windows meet only agents on Windows (pipe names, not paths), and the others only
// the others: "the reference of its platform" is the one of `references` in the same family,
// and --matrix leaves out pairs across families.
bool same_family(const implementation* a, const implementation* b);

std::vector<planned_run> make_plan(const std::vector<scenario_def>& scenarios,
                                   const std::vector<const implementation*>& under_test,
                                   const std::vector<const implementation*>& references,
                                   bool matrix);

}  // namespace npipe::conformance
