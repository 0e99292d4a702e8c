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

std::vector<planned_run> make_plan(const std::vector<scenario_def>& scenarios,
                                   const std::vector<const implementation*>& under_test,
                                   const implementation* reference, bool matrix);

}  // namespace npipe::conformance
