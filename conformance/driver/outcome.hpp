// outcome.hpp: how a scenario ends when it does not pass, as exceptions the runner classifies.
//
// A step that sees a wrong answer throws step_failed (FAIL). An agent that dies, hangs or talks
// garbage throws agent_crash / agent_timeout / agent_protocol (CRASH / TIMEOUT / ERROR), and the
// runner has already killed it. An agent answering `unsupported` throws not_applicable (N/A);
// a check the driver cannot make here throws skipped (SKIP).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace npipe::conformance {

struct step_failed : std::runtime_error {
  // Requirements the failure shows broken beyond the scenario's own (for example ERR-1 for an
  // error name outside the vocabulary): they are added to the result so the report shows them.
  std::vector<std::string> extra_requirements;
  explicit step_failed(const std::string& m, std::vector<std::string> extra = {})
      : std::runtime_error(m), extra_requirements(std::move(extra)) {}
};

struct not_applicable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Not run for a reason of the driver's or the platform's, not the implementation's (SKIP): the
// driver lacks a privilege a check needs, say.
struct skipped : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct agent_crash : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct agent_timeout : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct agent_protocol : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace npipe::conformance
