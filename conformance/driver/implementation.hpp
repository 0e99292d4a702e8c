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

  // Options of the configuration line (KEY=VALUE words between the kind and the command):
  //   needs=A,B       prerequisites: absolute paths that must exist, or commands on PATH. When one
  //                   is missing the entry is NOT RUN: listed in the report with `not_run` as its
  //                   error, announced loudly, and given no runs (an optional column).
  //   wineprefix=DIR  the agent runs under Wine with this prefix: the driver keeps one wineserver
  //                   up for the whole run (`wineserver -p`), warms it up, stops it at the end.
  //   slow=N          every step and watchdog deadline of a run with this agent is N times longer.
  //   deps=GROUP      the scripts/install-deps group that installs its needs (named when NOT RUN).
  // A needs= item may list alternatives, "wine64|wine|/usr/lib/wine/wine64": any one will do.
  // An entry that is NOT RUN fails the run (exit status 1): a configured column never passes
  // silently.
  std::vector<std::string> needs;
  std::string deps;
  std::string wineprefix;
  int slow = 1;
  std::string not_run;  // why the entry is not run ("" when it is)

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
