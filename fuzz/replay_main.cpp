// fuzz/replay_main.cpp: a main() for fuzz targets built without libFuzzer. It feeds every file
// named on the command line (directories are walked, non-recursively sorted) to
// LLVMFuzzerTestOneInput once, so CTest replays the committed seed corpora and every crash ever
// found (fuzz/regressions/) in the normal build. Exit status 0 when every input passed; a
// failing input aborts (FUZZ_CHECK, a sanitizer, an uncaught exception) after its name was
// printed on stderr.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::vector<std::uint8_t> read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in),
                                   std::istreambuf_iterator<char>());
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> inputs;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path arg(argv[i]);
    std::error_code ec;
    if (std::filesystem::is_directory(arg, ec)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg)) {
        if (entry.is_regular_file()) inputs.push_back(entry.path());
      }
    } else if (std::filesystem::is_regular_file(arg, ec)) {
      inputs.push_back(arg);
    } else {
      std::fprintf(stderr, "replay: %s: no such file or directory\n", argv[i]);
      return 2;
    }
  }
  std::sort(inputs.begin(), inputs.end());
  if (inputs.empty()) {
    std::fprintf(stderr, "replay: no inputs (an empty corpus proves nothing)\n");
    return 2;
  }
  for (const auto& p : inputs) {
    std::fprintf(stderr, "replay: %s\n", p.string().c_str());
    std::vector<std::uint8_t> data = read_file(p);
    // An empty vector's data() may be null; libFuzzer never passes null, so neither do we.
    static const std::uint8_t empty = 0;
    LLVMFuzzerTestOneInput(data.empty() ? &empty : data.data(), data.size());
  }
  std::printf("replay: %zu inputs, all passed\n", inputs.size());
  return 0;
}
