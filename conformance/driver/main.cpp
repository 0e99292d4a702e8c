// main.cpp: npipe-conformance. Loads the requirements, scenarios and implementations, starts the
// columns that can run, plans the runs, registers one GoogleTest test per run, runs them, then
// writes the reports. Each step is one function below; run_main only strings them together.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <set>

#include <gtest/gtest.h>

#include "expectations.hpp"
#include "options.hpp"
#include "plan.hpp"
#include "platform.hpp"
#include "prefetch.hpp"
#include "report.hpp"
#include "requirements.hpp"
#include "runner.hpp"
#include "wine.hpp"

namespace npipe::conformance {
namespace {

constexpr const char* kDriverVersion = "1.0.0 (protocol 1)";

// Where the GoogleTest tests put their results, with the expectations they are scored by.
struct result_sink {
  const expectations* exp = nullptr;
  std::vector<result> results;
};

// The GoogleTest face of one planned run. Its result may already have been computed by a
// prefetch worker (--jobs); otherwise the test runs it now.
class scenario_test : public ::testing::Test {
 public:
  scenario_test(prefetcher* pool, std::size_t index, result_sink* sink)
      : pool_(pool), index_(index), sink_(sink) {}
  void TestBody() override {
    result r = pool_->get(index_);
    sink_->exp->apply(r);
    sink_->results.push_back(r);
    std::string reqs;
    for (const auto& q : r.requirements)
      reqs += (reqs.empty() ? "" : " ") + q;
    if (r.unexpected())
      ADD_FAILURE() << r.status << " (expected " << r.expected << ") [" << reqs << "] "
                    << r.roles_label() << ": " << r.message;
    else if (r.status == "N/A" || r.status == "SKIP")
      GTEST_SKIP() << r.status << ": " << r.message;
  }

 private:
  prefetcher* pool_;
  std::size_t index_;
  result_sink* sink_;
};

std::string gtest_name(const std::string& s) {
  std::string o;
  for (char c : s)
    o += isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return o;
}

std::string now_utc() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string compiler() {
#if defined(_MSC_VER)
  return "MSVC " + std::to_string(_MSC_FULL_VER);
#elif defined(__clang__)
  return "Clang " __clang_version__;
#elif defined(__GNUC__)
  return "GCC " __VERSION__;
#else
  return "unknown";
#endif
}

// The scenarios of this run (--filter), with their citations checked against the catalogue so
// the report never shows a phantom ID. False (after saying why) when one is malformed.
bool select_scenarios(const options& opt, const std::vector<requirement>& catalogue,
                      std::vector<scenario_def>& out) {
  std::set<std::string> known;
  for (const auto& q : catalogue)
    known.insert(q.id);
  bool good = true;
  for (const auto& d : scenario_registry()) {
    for (const auto& id : d.requirements)
      if (!known.empty() && !known.count(id)) {
        std::cerr << "npipe-conformance: " << d.name << " cites unknown requirement " << id << "\n";
        good = false;
      }
    const std::string& np = d.needs.platforms;
    if (np != "all" && np != "posix" && np != "linux" && np != "darwin" && np != "windows") {
      std::cerr << "npipe-conformance: " << d.name << " needs unknown platform " << np << "\n";
      good = false;
    }
    bool keep = opt.filters.empty();
    for (const auto& f : opt.filters)
      keep = keep || glob_match(f, d.name);
    if (keep) out.push_back(d);
  }
  return good;
}

// --list: the scenarios and the requirements they check.
void list_scenarios(const std::vector<scenario_def>& scenarios) {
  for (const auto& d : scenarios) {
    std::cout << d.name << "  [";
    for (std::size_t i = 0; i < d.requirements.size(); ++i)
      std::cout << (i ? " " : "") << d.requirements[i];
    std::cout << "]  " << d.profile << "  roles:";
    for (const auto& r : d.roles)
      std::cout << " " << r;
    std::cout << "  " << d.title;
    if (d.needs.platforms != "all")
      std::cout << "  [needs " << d.needs.platforms << ": " << d.needs.why << "]";
    std::cout << "\n";
  }
}

// The report directory (its logs/ emptied) and the run's private directory for scenario
// directories, with the ^C clean-up that removes it. False (after saying why) on failure.
bool prepare_directories(const options& opt, run_options& run) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(opt.report_dir, ec);
  fs::remove_all(opt.report_dir + "/logs", ec);
  fs::create_directories(opt.report_dir + "/logs", ec);
  if (ec) {
    std::cerr << "npipe-conformance: cannot make " << opt.report_dir << "/logs: " << ec.message()
              << "\n";
    return false;
  }
  run.log_root = fs::absolute(opt.report_dir + "/logs").string();
  run.tmp_root = platform::make_run_dir();
  if (run.tmp_root.empty()) {
    std::cerr << "npipe-conformance: cannot make a private temporary directory\n";
    return false;
  }
  // ^C, SIGTERM, SIGHUP: every agent group killed, the Wine servers stopped, the private
  // directories removed, then exit.
  platform::on_interrupt([tmp = run.tmp_root] {
    kill_all_agent_groups();
    wine::stop_all();
    platform::remove_tree(tmp);
  });
  return true;
}

// Starts the implementation's agent once (after its Wine server, if any): hello tells its
// profiles, platform and version; it must then exit cleanly at EOF on stdin.
void probe(implementation& impl, const run_options& run) {
  if (!impl.wineprefix.empty()) {
    std::string why;
    if (!wine::start(impl, why)) {
      impl.probe_error = why;
      impl.probed = true;
      return;
    }
  }
  agent::options o;
  o.role = "probe";
  o.impl = &impl;
  o.log_path = run.log_root + "/probe-" + gtest_name(impl.name) + ".log";
  o.step_timeout = run.step_timeout * impl.slow;
  try {
    agent a(o);
    impl.hello = a.hello();
    auto e = a.finish(run.step_timeout * impl.slow);
    if (!e) {
      a.kill();
      impl.probe_error = "did not exit at EOF on stdin";
    } else if (e->signalled || e->code != 0) {
      impl.probe_error = e->describe() + " at EOF on stdin";
    }
  } catch (const std::exception& e) {
    impl.probe_error = e.what();
  }
  impl.probed = true;
}

struct columns {
  std::vector<const implementation*> under_test;
  std::vector<const implementation*> partners;  // the reference of each agent family needed
};

// Which implementations are under test (--only), and which ones partner them: the reference of
// each agent family (Windows agents meet Windows agents only, see plan.hpp). Each is probed; an
// entry whose needs= are missing is announced NOT RUN, loudly, and listed in the report (it
// fails the run). False (after saying why) on a bad --only or --reference.
bool pick_columns(const options& opt, const run_options& run, std::vector<implementation>& impls,
                  report& rep, columns& out) {
  std::vector<implementation*> references;
  for (auto& i : impls)
    if (opt.reference.empty() ? i.reference : i.name == opt.reference) references.push_back(&i);
  if (!opt.reference.empty() && references.empty()) {
    std::cerr << "npipe-conformance: --reference " << opt.reference << " is not configured\n";
    return false;
  }
  // The last reference of a family configured wins, as before (first in the list = preferred).
  std::reverse(references.begin(), references.end());
  for (const auto& n : opt.only) {
    bool found = false;
    for (const auto& i : impls)
      found = found || glob_match(n, i.name);
    if (!found) {
      std::cerr << "npipe-conformance: --only " << n << " matches no implementation\n";
      return false;
    }
  }
  auto announce_not_run = [&](implementation& i) {
    if (i.probed) return;
    i.probed = true;
    i.probe_error = "NOT RUN (" + i.not_run + ")";
    std::cerr << "\n==================================================================\n"
              << i.name << ": NOT RUN (" << i.not_run << ")\n"
              << "==================================================================\n";
    rep.info.notes.push_back(i.name + ": NOT RUN (" + i.not_run + ")");
  };
  for (auto& i : impls) {
    bool pick = opt.only.empty();
    for (const auto& n : opt.only)
      pick = pick || glob_match(n, i.name);
    if (!pick) continue;
    if (!i.not_run.empty()) {
      announce_not_run(i);
      continue;
    }
    probe(i, run);
    out.under_test.push_back(&i);
  }
  for (auto* r : references) {
    bool needed = false;
    for (auto* x : out.under_test)
      needed = needed || same_family(x, r);
    if (!needed) continue;
    if (!r->not_run.empty()) {
      announce_not_run(*r);
      continue;
    }
    if (!r->probed) probe(*r, run);
    out.partners.push_back(r);
  }
  for (const auto& i : impls)
    if (i.probed) rep.implementations.push_back(i);
  for (const auto& i : rep.implementations)
    if (!i.probe_error.empty() && i.not_run.empty())
      std::cerr << "npipe-conformance: " << i.name << " did not start: " << i.probe_error << "\n";
  return true;
}

// Every planned run as a GoogleTest test, run (--jobs at a time, prefetched); the results, scored
// by the expectations, land in `sink`. Returns GoogleTest's status.
int run_plan(const std::vector<planned_run>& plan, const options& opt, const run_options& run,
             result_sink& sink) {
  // Prefetching runs scenarios GoogleTest may filter out; with --gtest_filter run them in order.
  int jobs = opt.jobs;
  if (::testing::GTEST_FLAG(filter) != "*" || ::testing::GTEST_FLAG(repeat) != 1) jobs = 1;
  prefetcher pool(plan, run, jobs);
  for (std::size_t k = 0; k < plan.size(); ++k) {
    const auto& p = plan[k];
    std::string label;
    for (const auto& role : p.def->roles)
      label += (label.empty() ? "" : "__") + role + "_" + p.roles.at(role)->name;
    ::testing::RegisterTest(
        p.def->group.c_str(), gtest_name(p.def->short_name + "/" + label).c_str(), nullptr, nullptr,
        __FILE__, __LINE__,
        [&pool, k, &sink]() -> ::testing::Test* { return new scenario_test(&pool, k, &sink); });
  }
  pool.start();
  int status = RUN_ALL_TESTS();
  pool.stop();
  return status;
}

// Notes for expectation lines that matched no run (stale?), unless the run was partial or the
// line belongs to an implementation that did not run.
void note_unused_expectations(const options& opt, const expectations& exp,
                              const std::vector<implementation>& impls, report& rep) {
  if (!opt.filters.empty() || !opt.only.empty()) return;
  auto of_not_run = [&](const expectation* e) {
    for (const auto& i : impls)
      if (!i.not_run.empty() && e->where.find("/" + i.name + ".txt:") != std::string::npos)
        return true;
    return false;
  };
  for (const auto* e : exp.unused())
    if (!of_not_run(e))
      rep.info.notes.push_back("expectation matched no run (stale?): " + e->where + " " +
                               e->pattern);
}

// report.json, junit.xml, report.html, and the summary on stdout.
void write_reports(const options& opt, report& rep,
                   std::chrono::steady_clock::time_point wall_start) {
  rep.info.os = platform::os_name();
  rep.info.kernel = platform::kernel();
  rep.info.compiler = compiler();
  rep.info.time = now_utc();
  rep.info.driver_version = kDriverVersion;
  rep.info.duration_ms = static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::steady_clock::now() - wall_start)
                                               .count());
  write_json(rep, opt.report_dir + "/report.json");
  write_junit(rep, opt.report_dir + "/junit.xml");
  write_html(rep, opt.report_dir + "/report.html");
  print_summary(rep, std::cout);
  std::cout << "reports:\n  " << opt.report_dir << "/report.json\n  " << opt.report_dir
            << "/junit.xml\n  " << opt.report_dir << "/report.html\n";
}

// 1 when any result is unexpected, or a configured implementation did not run (NOT RUN: its
// needs= are missing) or did not start: a column never passes silently. The last lines say
// which and why.
int exit_status(const report& rep, int gtest_status) {
  bool unexpected = gtest_status != 0;
  for (const auto& r : rep.results)
    unexpected = unexpected || r.unexpected();
  for (const auto& i : rep.implementations)
    unexpected = unexpected || !i.probe_error.empty();
  for (const auto& i : rep.implementations)
    if (!i.not_run.empty())
      std::cerr << "\nCOLUMN NOT RUN: " << i.name << " (" << i.not_run << "): FAILED\n";
  return unexpected ? 1 : 0;
}

int run_main(int argc, char** argv) {
  auto wall_start = std::chrono::steady_clock::now();
  platform::init();
  std::string command_line;
  for (int i = 0; i < argc; ++i)
    command_line += (i ? " " : "") + std::string(argv[i]);
  ::testing::InitGoogleTest(&argc, argv);
  options opt = parse_options(argc, argv);
  run_options run = opt.run;

  report rep;
  rep.info.command_line = command_line;
  rep.requirements = load_requirements(opt.source_dir, opt.python, rep.info.requirements_source);
  for (const auto& q : rep.requirements)
    run.req_platforms[q.id] = q.platforms.empty() ? "all" : q.platforms;

  std::vector<scenario_def> scenarios;
  if (!select_scenarios(opt, rep.requirements, scenarios)) return 2;
  if (opt.list) {
    list_scenarios(scenarios);
    return 0;
  }

  load_options lo;
  lo.conf_path = opt.conf;
  lo.source_dir = opt.source_dir;
  lo.bin_dir = opt.bin_dir;
  lo.extra = opt.impls;
  lo.discover_cpython = opt.cpython;
  std::vector<implementation> impls;
  std::vector<std::string> names;
  expectations exp;
  try {
    impls = load_implementations(lo, rep.info.notes);
    for (const auto& i : impls)
      names.push_back(i.name);
    exp.load(opt.expectations_dir, names);
  } catch (const std::exception& e) {
    std::cerr << "npipe-conformance: " << e.what() << "\n";
    return 2;
  }

  if (!prepare_directories(opt, run)) return 2;
  columns cols;
  if (!pick_columns(opt, run, impls, rep, cols)) return 2;

  result_sink sink;
  sink.exp = &exp;
  int gtest_status =
      run_plan(make_plan(scenarios, cols.under_test, cols.partners, opt.matrix), opt, run, sink);
  wine::stop_all();
  platform::remove_tree(run.tmp_root);

  rep.results = std::move(sink.results);
  note_unused_expectations(opt, exp, impls, rep);
  write_reports(opt, rep, wall_start);
  return exit_status(rep, gtest_status);
}

}  // namespace
}  // namespace npipe::conformance

int main(int argc, char** argv) {
  return npipe::conformance::run_main(argc, argv);
}
