// win32/proc_checks.cpp: a Windows driver has no /proc (see proc_checks.hpp): every check says
// "unknown", and the scenarios that rely on them (needs::linux_proc) are SKIP for Windows agents.
#include "proc_checks.hpp"

namespace npipe::conformance::proc {

std::string holdings::describe() const {
  return "unknown (no /proc)";
}

holdings holdings_of(pid_t) {
  return {};
}

int live_threads(pid_t) {
  return -1;
}

std::optional<std::set<int>> open_fds(pid_t) {
  return std::nullopt;
}

std::optional<bool> close_on_exec(pid_t, int) {
  return std::nullopt;
}

std::string fd_target(pid_t, int) {
  return "?";
}

std::string sigpipe_state::describe() const {
  return "unknown (no /proc)";
}

std::optional<sigpipe_state> sigpipe_of(pid_t, int) {
  return std::nullopt;
}

std::string sigpipe_changes(const sigpipe_state&, const sigpipe_state&) {
  return "";
}

}  // namespace npipe::conformance::proc
