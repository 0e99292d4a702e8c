// plan.cpp: role assignments (see plan.hpp).
#include "plan.hpp"

#include <set>
#include <tuple>
#include <utility>

namespace npipe::conformance {
namespace {

bool usable(const implementation* i, const std::string& profile) {
  return !i->probe_error.empty() || i->offers(profile);
}

}  // namespace

namespace {
// An agent that did not start announced nothing: one under Wine is still a Windows one.
bool windows_agent(const implementation* i) {
  return i->platform() == "windows" || (i->platform().empty() && !i->wineprefix.empty());
}
}  // namespace

bool same_family(const implementation* a, const implementation* b) {
  return windows_agent(a) == windows_agent(b);
}

std::vector<planned_run> make_plan(const std::vector<scenario_def>& scenarios,
                                   const std::vector<const implementation*>& under_test,
                                   const std::vector<const implementation*>& references,
                                   bool matrix) {
  std::vector<planned_run> plan;
  std::set<std::tuple<const scenario_def*, const implementation*, const implementation*>> seen;
  std::vector<const implementation*> everyone = under_test;
  for (auto* reference : references) {
    bool present = false;
    for (auto* i : under_test)
      present = present || i == reference;
    if (!present && matrix) everyone.push_back(reference);
  }
  for (auto* x : under_test) {
    const implementation* reference = nullptr;
    for (auto* r : references)
      if (!reference && same_family(x, r)) reference = r;
    for (const auto& def : scenarios) {
      if (!usable(x, def.profile)) continue;
      if (def.roles.size() == 1) {
        plan.push_back({&def, {{def.roles[0], x}}});
        continue;
      }
      std::vector<std::pair<const implementation*, const implementation*>> pairs;
      if (matrix) {
        // X's row and column of the full matrix; pairs already planned for an earlier X skipped.
        for (auto* y : everyone) {
          if (!same_family(x, y)) continue;
          pairs.push_back({x, y});
          if (y != x) pairs.push_back({y, x});
        }
      } else {
        pairs.push_back({x, x});
        if (reference && reference != x) {
          pairs.push_back({x, reference});
          pairs.push_back({reference, x});
        }
      }
      for (auto [a, b] : pairs) {
        if (!usable(a, def.profile) || !usable(b, def.profile)) continue;
        if (seen.insert({&def, a, b}).second)
          plan.push_back({&def, {{def.roles[0], a}, {def.roles[1], b}}});
      }
    }
  }
  return plan;
}

}  // namespace npipe::conformance
