// npipe/commands.hpp: the CLI's commands. Each takes the words after its name, returns the exit
// status on success and throws npipe::error (exit 9 + its number) or usage_error (exit 2).
#pragma once

#include <string>
#include <vector>

namespace npipe::cli {

using words = std::vector<std::string>;

int run_mkfifo(const words& args);
int run_read(const words& args);
int run_write(const words& args);
int run_recv(const words& args);
int run_send(const words& args);

// The whole manual: every command, option and exit status (for --help).
const char* help_text();

}  // namespace npipe::cli
