// npipe/options.hpp: the CLI's argument grammar, shared by every command.
//
// Options are GNU-style long options ("--mode 644" or "--mode=644") and may come before, between
// or after the positional arguments; "--" ends the options, so a message may start with '-'.
// Anything wrong is a usage_error naming the argument: exit status 2.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "npipe/channel.hpp"
#include "npipe/deadline.hpp"

namespace npipe::cli {

// A mistake in the command line (not in what it asked for): exit status 2.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct option_spec {
  const char* name;  // with the leading "--"
  bool takes_value;
};

struct parsed_args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;  // flags map to ""

  bool has(const std::string& name) const { return options.count(name) != 0; }
  std::optional<std::string> value(const std::string& name) const;
};

// Splits `args` (the words after the command) by `allowed`. An unknown or repeated option, or an
// option missing its value, is a usage_error.
parsed_args parse_args(const std::vector<std::string>& args,
                       const std::vector<option_spec>& allowed);

// Demands exactly `count` positional arguments, named in messages by `names` ("PATH").
void expect_positional(const parsed_args& a, std::size_t count, const char* names);

// --timeout SECONDS: decimals allowed, rounded up to whole milliseconds so that a tiny positive
// value still waits; "0" is the non-blocking form. nullopt (option absent) blocks forever.
std::optional<std::chrono::milliseconds> parse_timeout(const parsed_args& a);
npipe::deadline deadline_from(std::optional<std::chrono::milliseconds> timeout);

// --mode OCTAL: permission bits, at most 0777 plus the sticky/setid bits (07777).
unsigned parse_mode(const parsed_args& a, unsigned fallback);

// --authkey-file F and --challenge sha256|md5 for recv and send. The file's exact bytes are the
// key (a trailing newline is part of it). An empty file is refused: see the help text.
npipe::auth_options parse_auth(const parsed_args& a);

}  // namespace npipe::cli
