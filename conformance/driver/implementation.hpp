// implementation.hpp: the implementations under test, from implementations.conf, the command
// line (--impl 'name=command') and the CPython interpreters found on this machine.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace npipe::conformance {

struct implementation {
  std::string name;
  std::string command;     // a shell command line, variables already expanded
  std::string platforms;   // the platform filter of the configuration ("posix", "linux", ...)
  bool reference = false;  // the reference of its platform: the partner in two-role scenarios
  std::string origin;      // "implementations.conf:12", "--impl", "auto (CPython 3.12)"

  // Filled by the hello probe at startup.
  bool probed = false;
  std::string probe_error;  // why the probe failed ("" when it worked)
  nlohmann::json hello;     // the hello reply

  std::string version() const;
  std::string platform() const;  // the platform the agent announced ("linux", ...)
  bool offers(const std::string& profile) const;
};

struct load_options {
  std::string conf_path;
  std::string source_dir;          // ${SOURCE_DIR}
  std::string bin_dir;             // ${BIN_DIR}
  std::vector<std::string> extra;  // --impl arguments, "name=command"
  bool discover_cpython = true;
};

// The host platform in the configuration's words: "linux", "darwin", "freebsd", ...
std::string host_platform();
// True when a platform filter ("posix", "linux,darwin", "all", "windows") admits the host.
bool platform_matches(const std::string& filter, const std::string& host);

// Reads the configuration. Entries whose platform filter excludes the host are left out, with a
// line in `notes`. Throws std::runtime_error on a malformed file.
std::vector<implementation> load_implementations(const load_options& opts,
                                                 std::vector<std::string>& notes);

}  // namespace npipe::conformance
