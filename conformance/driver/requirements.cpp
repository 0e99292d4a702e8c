// requirements.cpp: loading the requirement catalogue (see requirements.hpp).
#include "requirements.hpp"

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "platform.hpp"

namespace npipe::conformance {
namespace {

std::string join(const nlohmann::json& a) {
  std::string s;
  if (a.is_array())
    for (const auto& x : a)
      s += (s.empty() ? "" : ", ") + x.get<std::string>();
  return s;
}

std::vector<requirement> from_tool(const std::string& source_dir, const std::string& python) {
  namespace fs = std::filesystem;
  std::string tool = source_dir + "/spec/tools/requirements.py";
  std::error_code ec;
  if (!fs::exists(tool, ec)) return {};
  // The registry on stdout ("--json -"); stderr is the tool's own business.
  std::string cmd = python + " " + platform::quote(tool) + " --json -" + platform::null_stderr();
  std::vector<requirement> out;
  try {
    auto j = nlohmann::json::parse(platform::capture(cmd));
    for (const auto& r : j)
      out.push_back({r.at("id").get<std::string>(), r.at("strength").get<std::string>(),
                     join(r.value("profiles", nlohmann::json::array())),
                     join(r.value("platforms", nlohmann::json::array())),
                     r.value("title", std::string())});
  } catch (const std::exception&) {
    out.clear();  // no Python, an old one, or no tool: the fallback parse below
  }
  return out;
}

// `**ID** [STRENGTH] [profiles] [platforms] — title`, the format of spec/README.md.
std::vector<requirement> from_markdown(const std::string& source_dir) {
  static const std::regex line_re(
      R"(^\*\*([A-Z][A-Z0-9-]*-[0-9]+)\*\* \[([^\]]*)\] \[([^\]]*)\] \[([^\]]*)\] — (.*)$)");
  std::vector<requirement> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(source_dir + "/spec", ec)) {
    if (e.path().extension() != ".md") continue;
    std::ifstream f(e.path());
    std::string line;
    bool fenced = false;
    while (std::getline(f, line)) {
      if (line.rfind("```", 0) == 0) fenced = !fenced;
      std::smatch m;
      if (!fenced && std::regex_match(line, m, line_re))
        out.push_back({m[1], m[2], m[3], m[4], m[5]});
    }
  }
  return out;
}

}  // namespace

std::vector<requirement> load_requirements(const std::string& source_dir, const std::string& python,
                                           std::string& how) {
  auto r = from_tool(source_dir, python);
  if (!r.empty()) {
    how = "spec/tools/requirements.py";
    return r;
  }
  how = "spec/*.md (requirements.py unavailable)";
  return from_markdown(source_dir);
}

}  // namespace npipe::conformance
