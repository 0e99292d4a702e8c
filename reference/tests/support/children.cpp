// The registry of child entry points, shared by both platforms.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>

#include "support.hpp"

namespace npipe::test {
namespace {

std::map<std::string, child_main>& registry() {
  static std::map<std::string, child_main> children;
  return children;
}

std::vector<std::string>& args_storage() {
  static std::vector<std::string> args;
  return args;
}

}  // namespace

bool register_child(const char* name, child_main fn) {
  registry().emplace(name, std::move(fn));
  return true;
}

const std::vector<std::string>& child_args() {
  return args_storage();
}

void run_child_if_requested(int argc, char** argv) {
  if (argc < 3 || std::strcmp(argv[1], "--npipe-child") != 0) return;
  auto it = registry().find(argv[2]);
  if (it == registry().end()) {
    std::fprintf(stderr, "npipe-tests: no child entry point named '%s'\n", argv[2]);
    std::exit(125);
  }
  for (int i = 3; i < argc; ++i)
    args_storage().emplace_back(argv[i]);
  int status = 124;
  try {
    status = it->second();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "npipe-tests child %s: uncaught: %s\n", argv[2], e.what());
  }
  std::fflush(stdout);
  std::exit(status);
}

}  // namespace npipe::test
