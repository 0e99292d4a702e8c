// expectations.hpp: known deviations of an implementation, kept in
// conformance/expectations/<impl>.txt, one a line:
//
//   SCENARIO[@ROLE]  STATUS  REQUIREMENT-ID  reason...
//
// SCENARIO is a scenario name, '*' matching any run of characters ("chan_listen.*");
// @ROLE restricts the line to runs where the implementation plays that role; STATUS is the
// status expected instead of PASS (FAIL, CRASH, TIMEOUT, ERROR). Scoring is strict: the status
// must then be exactly that, so a fixed deviation (an unexpected PASS) fails the run too, until
// the line is removed. `@include FILE` reads shared lines from another file of the directory.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "result.hpp"

namespace npipe::conformance {

struct expectation {
  std::string pattern;
  std::string role;  // "" for any
  std::string status;
  std::string requirement;
  std::string reason;
  std::string where;  // file:line
};

class expectations {
 public:
  // Reads DIR/<impl>.txt for each name; a missing file means "expected to pass everything".
  // Throws std::runtime_error on a malformed line.
  void load(const std::string& dir, const std::vector<std::string>& impls);
  // Sets r.expected / r.expectation_reason from the lines matching r.
  void apply(result& r) const;
  // Lines that matched no run: stale, reported so the files stay honest.
  std::vector<const expectation*> unused() const;

 private:
  void load_file(const std::string& dir, const std::string& file, const std::string& impl,
                 int depth);
  std::map<std::string, std::vector<expectation>> by_impl_;
  mutable std::map<const expectation*, bool> used_;
};

bool glob_match(const std::string& pattern, const std::string& text);

}  // namespace npipe::conformance
