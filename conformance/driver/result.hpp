// result.hpp: the outcome of one scenario run under one role assignment, as reported.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace npipe::conformance {

struct result {
  std::string test;  // scenario name, "fifo_open.read_blocks_until_writer"
  std::string title;
  std::string profile;
  std::vector<std::string> requirements;     // the scenario's, then any a failure added
  std::map<std::string, std::string> roles;  // role -> implementation name
  std::string status;                        // PASS FAIL SKIP N/A ERROR TIMEOUT CRASH
  std::string expected;                      // PASS unless an expectations file says otherwise
  std::string expectation_reason;
  std::string expectation_requirement;  // the requirement the expectation line names
  std::string message;
  long duration_ms = 0;
  std::vector<std::string> logs;  // agents' stderr logs (kept when not empty)

  // A status that does not count against anybody when PASS was expected.
  bool neutral() const { return status == "PASS" || status == "N/A" || status == "SKIP"; }
  // N/A and SKIP are never unexpected: a known deviation that a run did not reach (the partner
  // answered `unsupported`) is neither confirmed nor fixed by it.
  bool unexpected() const {
    if (expected == "PASS") return !neutral();
    return status != expected && status != "N/A" && status != "SKIP";
  }
  // "owner=reference-posix,peer=cpython-fifo-3.12"
  std::string roles_label() const;
};

}  // namespace npipe::conformance
