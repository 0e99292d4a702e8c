// main.cpp: npipe-conformance. Loads the implementations and requirements, plans the runs,
// registers one GoogleTest test per run, runs them, then writes the reports.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "expectations.hpp"
#include "options.hpp"
#include "plan.hpp"
#include "prefetch.hpp"
#include "report.hpp"
#include "requirements.hpp"
#include "runner.hpp"

namespace npipe::conformance {
namespace {

constexpr const char* kDriverVersion = "1.0.0 (protocol 1)";

std::vector<result> g_results;
const expectations* g_expectations = nullptr;
run_options g_run;

// The GoogleTest face of one planned run. Its result may already have been computed by a
// prefetch worker (--jobs); otherwise the test runs it now.
class scenario_test : public ::testing::Test {
 public:
  scenario_test(prefetcher* pool, std::size_t index) : pool_(pool), index_(index) {}
  void TestBody() override {
    result r = pool_->get(index_);
    g_expectations->apply(r);
    g_results.push_back(r);
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
};

std::string gtest_name(const std::string& s) {
  std::string o;
  for (char c : s)
    o += isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return o;
}

void stop_wine();

// ^C, SIGTERM, SIGHUP: taken by a thread of their own (blocked everywhere else, and reset for
// agents by posix_spawn), so the clean-up runs in normal context: every agent group killed, the
// private directories removed, then exit 128 + signal.
void handle_signals(std::string tmp_root) {
  static sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([tmp_root] {
    int sig = 0;
    sigwait(&set, &sig);
    kill_all_agent_groups();
    stop_wine();
    std::error_code ec;
    std::filesystem::remove_all(tmp_root, ec);
    std::cerr << "npipe-conformance: stopped by signal " << sig << "\n";
    _exit(128 + sig);
  }).detach();
}

// Starts each implementation's agent once: hello tells its profiles, platform and version.
bool start_wine(const implementation& impl, std::string& why);

void probe(implementation& impl, const std::string& log_dir) {
  if (!impl.wineprefix.empty()) {
    std::string why;
    if (!start_wine(impl, why)) {
      impl.probe_error = why;
      impl.probed = true;
      return;
    }
  }
  agent::options o;
  o.role = "probe";
  o.impl = &impl;
  o.log_path = log_dir + "/probe-" + gtest_name(impl.name) + ".log";
  o.step_timeout = g_run.step_timeout * impl.slow;
  try {
    agent a(o);
    impl.hello = a.hello();
    auto e = a.finish(g_run.step_timeout * impl.slow);
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

std::string os_name() {
  std::ifstream f("/etc/os-release");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      std::string v = line.substr(12);
      if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
  utsname u{};
  uname(&u);
  return u.sysname;
}

// One wineserver per Wine prefix for the whole run (`wineserver -p`: persistent, so every agent
// under Wine attaches to it instead of starting one inside its own process group), warmed up by
// one throw-away agent (the prefix's first processes take seconds), and stopped at the end. A
// server already up for the prefix (scripts/test-windows keeps one) is used and left running.
std::vector<std::string> g_wine_started;  // prefixes whose server this run started
std::mutex g_wine_mu;

std::string sh_quote(const std::string& s) {
  std::string o = "'";
  for (char c : s)
    o += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return o + "'";
}

std::string wineserver_bin() {
  for (const char* c :
       {"/usr/bin/wineserver", "/usr/lib/wine/wineserver64", "/usr/lib/wine/wineserver"})
    if (access(c, X_OK) == 0) return c;
  return "wineserver";
}

bool start_wine(const implementation& impl, std::string& why) {
  {
    std::lock_guard<std::mutex> lock(g_wine_mu);
    if (std::find(g_wine_started.begin(), g_wine_started.end(), impl.wineprefix) !=
        g_wine_started.end())
      return true;
  }
  std::error_code ec;
  std::filesystem::create_directories(impl.wineprefix, ec);
  // One conformance run per prefix at a time (two CTest trees, say): the first one's
  // `wineserver -k` at its end would kill the other's agents. Held until this process exits.
  std::string lock_path = impl.wineprefix + "/.npipe-conformance.lock";
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd >= 0 && ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    std::cerr << "npipe-conformance: " << impl.name << ": waiting for another conformance run "
              << "using " << impl.wineprefix << "\n";
    ::flock(lock_fd, LOCK_EX);
  }
  std::string env = "WINEPREFIX=" + sh_quote(impl.wineprefix) + " WINEDEBUG=-all ";
  auto t0 = std::chrono::steady_clock::now();
  int rc = std::system((env + sh_quote(wineserver_bin()) + " -p >/dev/null 2>&1").c_str());
  if (rc == 0) {
    std::lock_guard<std::mutex> lock(g_wine_mu);
    g_wine_started.push_back(impl.wineprefix);
  } else {
    std::cerr << "npipe-conformance: " << impl.name << ": wineserver -p failed (one already up for "
              << impl.wineprefix << "?); using it and leaving it running\n";
  }
  // Warm-up: one agent that exits at once (EOF on stdin), outside any scenario's process group.
  rc = std::system((env + "timeout 120 /bin/sh -c " + sh_quote("exec " + impl.command) +
                    " </dev/null >/dev/null 2>&1")
                       .c_str());
  long ms = static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count());
  std::cerr << "npipe-conformance: " << impl.name << ": wineserver up for " << impl.wineprefix
            << " (warm-up " << ms << " ms)\n";
  if (rc != 0) {
    why = "the warm-up agent under Wine exited with status " + std::to_string(rc);
    return false;
  }
  return true;
}

// async-signal-tolerant enough for the signal thread: fork/exec of wineserver -k.
void stop_wine() {
  std::lock_guard<std::mutex> lock(g_wine_mu);
  for (const auto& prefix : g_wine_started)
    std::system(("WINEPREFIX=" + sh_quote(prefix) + " " + sh_quote(wineserver_bin()) +
                 " -k >/dev/null 2>&1")
                    .c_str());
  g_wine_started.clear();
}

std::string now_utc() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

int run_main(int argc, char** argv) {
  auto wall_start = std::chrono::steady_clock::now();
  std::string command_line;
  for (int i = 0; i < argc; ++i)
    command_line += (i ? " " : "") + std::string(argv[i]);
  ::testing::InitGoogleTest(&argc, argv);
  options opt = parse_options(argc, argv);
  g_run = opt.run;
  signal(SIGPIPE, SIG_IGN);

  report rep;
  rep.info.command_line = command_line;
  rep.requirements = load_requirements(opt.source_dir, opt.python, rep.info.requirements_source);
  std::set<std::string> known;
  for (const auto& q : rep.requirements) {
    known.insert(q.id);
    g_run.req_platforms[q.id] = q.platforms.empty() ? "all" : q.platforms;
  }

  // Scenarios: citations checked against the catalogue, so the report never shows a phantom ID.
  std::vector<scenario_def> scenarios;
  bool bad = false;
  for (const auto& d : scenario_registry()) {
    for (const auto& id : d.requirements)
      if (!known.empty() && !known.count(id)) {
        std::cerr << "npipe-conformance: " << d.name << " cites unknown requirement " << id << "\n";
        bad = true;
      }
    bool keep = opt.filters.empty();
    for (const auto& f : opt.filters)
      keep = keep || glob_match(f, d.name);
    if (keep) scenarios.push_back(d);
  }
  for (const auto& [pattern, why] : posix_checks_registry()) {
    bool found = false;
    for (const auto& d : scenario_registry())
      found = found || glob_match(pattern, d.name);
    if (!found) {
      std::cerr << "npipe-conformance: NPIPE_POSIX_CHECKS " << pattern << " matches no scenario\n";
      rep.info.notes.push_back("NPIPE_POSIX_CHECKS " + pattern + " matches no scenario (stale?)");
    }
  }
  if (bad) return 2;
  if (opt.list) {
    for (const auto& d : scenarios) {
      std::cout << d.name << "  [";
      for (std::size_t i = 0; i < d.requirements.size(); ++i)
        std::cout << (i ? " " : "") << d.requirements[i];
      std::cout << "]  " << d.profile << "  roles:";
      for (const auto& r : d.roles)
        std::cout << " " << r;
      std::cout << "  " << d.title;
      std::string pc = posix_checks_of(d.name);
      if (!pc.empty()) std::cout << "  [POSIX only: " << pc << "]";
      std::cout << "\n";
    }
    return 0;
  }

  load_options lo;
  lo.conf_path = opt.conf;
  lo.source_dir = opt.source_dir;
  lo.bin_dir = opt.bin_dir;
  lo.extra = opt.impls;
  lo.discover_cpython = opt.cpython;
  std::vector<implementation> impls;
  try {
    impls = load_implementations(lo, rep.info.notes);
  } catch (const std::exception& e) {
    std::cerr << "npipe-conformance: " << e.what() << "\n";
    return 2;
  }

  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(opt.report_dir, ec);
  fs::remove_all(opt.report_dir + "/logs", ec);
  fs::create_directories(opt.report_dir + "/logs", ec);
  if (ec) {
    std::cerr << "npipe-conformance: cannot make " << opt.report_dir << "/logs: " << ec.message()
              << "\n";
    return 2;
  }
  g_run.log_root = fs::absolute(opt.report_dir + "/logs").string();
  // Short, private names: AF_UNIX paths must fit in sun_path (108 bytes on Linux).
  const char* tmpdir = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(tmpdir && std::strlen(tmpdir) < 40 ? tmpdir : "/tmp") + "/npc-XXXXXX";
  if (!mkdtemp(tmpl.data())) {
    std::cerr << "npipe-conformance: mkdtemp failed\n";
    return 2;
  }
  g_run.tmp_root = tmpl;
  handle_signals(tmpl);

  // Which implementations are under test, and which ones partner them: the reference of each
  // agent family (Windows agents meet Windows agents only, see plan.hpp).
  std::vector<implementation*> references;
  for (auto& i : impls)
    if (opt.reference.empty() ? i.reference : i.name == opt.reference) references.push_back(&i);
  if (!opt.reference.empty() && references.empty()) {
    std::cerr << "npipe-conformance: --reference " << opt.reference << " is not configured\n";
    return 2;
  }
  // The last reference of a family configured wins, as before (first in the list = preferred).
  std::reverse(references.begin(), references.end());
  std::vector<implementation*> chosen;
  for (auto& i : impls) {
    bool pick = opt.only.empty();
    for (const auto& n : opt.only)
      pick = pick || glob_match(n, i.name);
    if (pick) chosen.push_back(&i);
  }
  for (const auto& n : opt.only) {
    bool found = false;
    for (const auto& i : impls)
      found = found || glob_match(n, i.name);
    if (!found) {
      std::cerr << "npipe-conformance: --only " << n << " matches no implementation\n";
      return 2;
    }
  }
  // Optional entries whose prerequisites are missing: never silently absent.
  std::set<std::string> not_run_named;
  auto announce_not_run = [&](implementation& i) {
    if (i.probed) return;
    i.probed = true;
    i.probe_error = "NOT RUN (" + i.not_run + ")";
    std::cerr << "\n==================================================================\n"
              << i.name << ": NOT RUN (" << i.not_run << ")\n"
              << "==================================================================\n";
    rep.info.notes.push_back(i.name + ": NOT RUN (" + i.not_run + ")");
  };
  std::vector<const implementation*> under_test;
  for (auto* i : chosen) {
    if (!i->not_run.empty()) {
      announce_not_run(*i);
      for (const auto& n : opt.only)
        if (glob_match(n, i->name)) not_run_named.insert(i->name);
      continue;
    }
    probe(*i, g_run.log_root);
    under_test.push_back(i);
  }
  std::vector<const implementation*> partners;
  for (auto* r : references) {
    bool needed = false;
    for (auto* x : under_test)
      needed = needed || same_family(x, r);
    if (!needed) continue;
    if (!r->not_run.empty()) {
      announce_not_run(*r);
      continue;
    }
    if (!r->probed) probe(*r, g_run.log_root);
    partners.push_back(r);
  }
  for (const auto& i : impls)
    if (i.probed) rep.implementations.push_back(i);
  for (const auto& i : rep.implementations)
    if (!i.probe_error.empty() && i.not_run.empty())
      std::cerr << "npipe-conformance: " << i.name << " did not start: " << i.probe_error << "\n";

  std::vector<std::string> names;
  for (const auto& i : impls)
    names.push_back(i.name);
  expectations exp;
  try {
    exp.load(opt.expectations_dir, names);
  } catch (const std::exception& e) {
    std::cerr << "npipe-conformance: " << e.what() << "\n";
    return 2;
  }
  g_expectations = &exp;

  auto plan = make_plan(scenarios, under_test, partners, opt.matrix);
  // Prefetching runs scenarios GoogleTest may filter out; with --gtest_filter run them in order.
  int jobs = opt.jobs;
  if (::testing::GTEST_FLAG(filter) != "*" || ::testing::GTEST_FLAG(repeat) != 1) jobs = 1;
  prefetcher pool(plan, g_run, jobs);
  for (std::size_t k = 0; k < plan.size(); ++k) {
    const auto& run = plan[k];
    std::string label;
    for (const auto& role : run.def->roles)
      label += (label.empty() ? "" : "__") + role + "_" + run.roles.at(role)->name;
    ::testing::RegisterTest(
        run.def->group.c_str(), gtest_name(run.def->short_name + "/" + label).c_str(), nullptr,
        nullptr, __FILE__, __LINE__,
        [&pool, k]() -> ::testing::Test* { return new scenario_test(&pool, k); });
  }
  pool.start();
  int gtest_status = RUN_ALL_TESTS();
  pool.stop();
  stop_wine();
  fs::remove_all(g_run.tmp_root, ec);

  rep.results = g_results;
  auto of_not_run = [&](const expectation* e) {
    for (const auto& i : impls)
      if (!i.not_run.empty() && e->where.find("/" + i.name + ".txt:") != std::string::npos)
        return true;
    return false;
  };
  for (const auto* e : exp.unused())
    if (opt.filters.empty() && opt.only.empty() && !of_not_run(e))
      rep.info.notes.push_back("expectation matched no run (stale?): " + e->where + " " +
                               e->pattern);
  utsname u{};
  uname(&u);
  rep.info.os = os_name();
  rep.info.kernel = std::string(u.sysname) + " " + u.release + " " + u.machine;
  rep.info.compiler = __VERSION__;
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
  // Everything named with --only was an optional entry that could not run: nothing was tested.
  // 77 (CTest's SKIP_RETURN_CODE) so a test of that column shows as skipped, never as passed.
  if (!opt.only.empty() && under_test.empty() && !not_run_named.empty()) return 77;
  bool unexpected = false;
  for (const auto& r : rep.results)
    unexpected = unexpected || r.unexpected();
  // An implementation that did not start, or a column NOT RUN for a missing prerequisite, fails
  // the run: a column must never vanish in silence (scripts/install-deps installs what they need).
  for (const auto& i : rep.implementations)
    unexpected = unexpected || !i.probe_error.empty();
  for (const auto& i : rep.implementations)
    if (!i.not_run.empty()) std::cerr << "\n" << i.name << ": NOT RUN (" << i.not_run << ")\n";
  return unexpected || gtest_status != 0 ? 1 : 0;
}

}  // namespace
}  // namespace npipe::conformance

int main(int argc, char** argv) {
  return npipe::conformance::run_main(argc, argv);
}
