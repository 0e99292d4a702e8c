// report_json.cpp: report.json, the machine-readable record of a run.
#include <fstream>

#include <nlohmann/json.hpp>

#include "report.hpp"

namespace npipe::conformance {

void write_json(const report& r, const std::string& path) {
  using nlohmann::json;
  json j;
  j["format"] = "npipe-conformance-report";
  j["format_version"] = 1;
  j["run_info"] = {{"os", r.info.os},
                   {"kernel", r.info.kernel},
                   {"compiler", r.info.compiler},
                   {"time", r.info.time},
                   {"driver_version", r.info.driver_version},
                   {"requirements_source", r.info.requirements_source},
                   {"command_line", r.info.command_line},
                   {"duration_ms", r.info.duration_ms},
                   {"notes", r.info.notes}};
  j["implementations"] = json::array();
  for (const auto& i : r.implementations) {
    json profiles =
        i.hello.is_object() && i.hello.contains("profiles") ? i.hello["profiles"] : json::array();
    j["implementations"].push_back({{"name", i.name},
                                    {"command", i.command},
                                    {"platform", i.platform().empty() ? i.platforms : i.platform()},
                                    {"version", i.version()},
                                    {"reference", i.reference},
                                    {"profiles", profiles},
                                    {"origin", i.origin},
                                    {"error", i.probe_error}});
  }
  j["requirements"] = json::array();
  for (const auto& q : r.requirements)
    j["requirements"].push_back({{"id", q.id},
                                 {"strength", q.strength},
                                 {"profile", q.profile},
                                 {"platforms", q.platforms},
                                 {"title", q.title}});
  j["results"] = json::array();
  for (const auto& x : r.results)
    j["results"].push_back({{"test", x.test},
                            {"title", x.title},
                            {"requirements", x.requirements},
                            {"roles", x.roles},
                            {"status", x.status},
                            {"expected", x.expected},
                            {"unexpected", x.unexpected()},
                            {"expectation", x.expectation_reason},
                            {"message", x.message},
                            {"duration_ms", x.duration_ms},
                            {"logs", x.logs}});
  // replace: messages quote agents' bytes (a garbage line, a stderr tail cut anywhere), which need
  // not be UTF-8; a strict dump would throw and end the run without a report.
  std::ofstream(path) << j.dump(1, ' ', false, json::error_handler_t::replace) << "\n";
}

}  // namespace npipe::conformance
