// npipe-agent/ops_session.cpp: hello (section 5.1), spawn (section 5.4). bye is handled by the
// session itself.
#include "npipe/version.hpp"
#include "session.hpp"

namespace npipe::agent {
namespace {

// The platform this agent was built for, in the protocol's words.
constexpr const char* platform() {
#if defined(_WIN32)
  return "windows";
#elif defined(__APPLE__)
  return "darwin";
#elif defined(__linux__)
  return "linux";
#elif defined(__FreeBSD__)
  return "freebsd";
#elif defined(__NetBSD__)
  return "netbsd";
#elif defined(__OpenBSD__)
  return "openbsd";
#else
  return "unknown";
#endif
}

}  // namespace

void op_spawn(session& s, const request&, nlohmann::json& reply) {
  npipe::tools::idle_child child = npipe::tools::idle_child::start();
  reply["pid"] = child.pid();
  reply["handle"] = s.add(std::move(child));
}

void op_hello(session&, const request&, nlohmann::json& reply) {
  reply["protocol"] = 1;
  reply["impl"] = "npipe-reference";
  reply["version"] = NPIPE_VERSION_STRING;
  reply["platform"] = platform();
  reply["profiles"] = {"fifo", "channel"};
  reply["ops"] = ops_list();
}

}  // namespace npipe::agent
