// runner.cpp: one scenario run (see runner.hpp).
#include "runner.hpp"

#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "platform.hpp"

namespace npipe::conformance {

std::string result::roles_label() const {
  std::string s;
  for (const auto& [role, impl] : roles)
    s += (s.empty() ? "" : ",") + role + "=" + impl;
  return s;
}

namespace {

namespace fs = std::filesystem;

const char* kind_of(const fs::file_status& st) {
  switch (st.type()) {
    case fs::file_type::fifo:
      return "FIFO";
    case fs::file_type::socket:
      return "socket";
    case fs::file_type::directory:
      return "directory";
    case fs::file_type::symlink:
      return "symlink";
    case fs::file_type::regular:
      return "file";
    default:
      return "file";
  }
}

// Everything in `dir` the driver did not make itself.
std::string leftovers(const std::string& dir, const std::set<std::string>& driver_made) {
  std::string out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    std::string p = it->path().string();
    if (driver_made.count(p)) continue;
    out += (out.empty() ? "" : ", ") + std::string(kind_of(it->symlink_status())) + " " +
           it->path().filename().string();
  }
  return out;
}

std::string sanitize(std::string s) {
  for (char& c : s)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '_';
  return s;
}

std::atomic<unsigned> counter{0};

// Whether a requirement's platform list ("all", "posix", "posix, windows") covers an agent
// platform ("linux", "windows", ...).
bool applies_on(const std::string& platforms, const std::string& platform) {
  std::istringstream in(platforms);
  for (std::string item; std::getline(in, item, ',');) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (item == "all" || item == platform) return true;
    if (item == "posix" && platform != "windows") return true;
  }
  return false;
}

}  // namespace

result run_scenario(const scenario_def& def,
                    const std::map<std::string, const implementation*>& roles,
                    const run_options& opts) {
  result res;
  res.test = def.name;
  res.title = def.title;
  res.profile = def.profile;
  res.requirements = def.requirements;
  res.expected = "PASS";
  for (const auto& [role, impl] : roles)
    res.roles[role] = impl->name;
  auto started = std::chrono::steady_clock::now();
  auto finish = [&](std::string status, std::string message) {
    res.status = std::move(status);
    res.message = std::move(message);
    res.duration_ms = static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::steady_clock::now() - started)
                                            .count());
    return res;
  };

  // Not applicable before anything is spawned: a role whose implementation lacks the profile.
  for (const auto& [role, impl] : roles) {
    if (!impl->probe_error.empty())
      return finish("ERROR", impl->name + " did not start: " + impl->probe_error);
    if (!impl->offers(def.profile))
      return finish("N/A", impl->name + " does not offer the " + def.profile + " profile");
  }

  // Not run on the agents' platform (SKIP, spec/driver-protocol.md section 9.1): no requirement
  // of the scenario applies there (the requirement line's platforms), or the scenario's checks
  // need a platform the agents are not on (its `needs`). Requirements that do not apply there
  // are not credited by the run.
  std::set<std::string> platforms;
  int slow = 1;
  for (const auto& [role, impl] : roles) {
    platforms.insert(impl->platform());
    slow = std::max(slow, impl->slow);
  }
  std::vector<std::string> applicable;
  std::string foreign;
  for (const auto& id : res.requirements) {
    auto it = opts.req_platforms.find(id);
    bool ok = true;
    for (const auto& p : platforms)
      ok = ok && (it == opts.req_platforms.end() || applies_on(it->second, p));
    if (ok)
      applicable.push_back(id);
    else
      foreign += (foreign.empty() ? "" : ", ") + id + " [" + it->second + "]";
  }
  std::string where;
  for (const auto& p : platforms)
    where += (where.empty() ? "" : "/") + p;
  if (applicable.empty())
    return finish("SKIP", "requirements not for " + where + ": " + foreign + " only");
  res.requirements = applicable;
  for (const auto& p : platforms)
    if (!def.needs.met_by(p))
      return finish("SKIP", "the scenario needs " + def.needs.platforms + " agents, not " + p +
                                ": " + def.needs.why);
  bool windows = platforms.count("windows") > 0;

  unsigned n = ++counter;
  scene_options so;
  so.step_timeout = opts.step_timeout * slow;
  so.pending_limit = opts.pending_limit * slow;
  so.pending_grace = opts.pending_grace * slow;
  // /proc proves a block only for Linux agents; a Windows agent under Wine is Linux threads of
  // Wine's, which say nothing about the call.
  so.grace_only = platforms.size() != 1 || *platforms.begin() != "linux";
  so.dir = opts.tmp_root + "/s" + std::to_string(n);
  if (windows) {
    // \\.\pipe\npipe-<unique>-<leaf>: unique per run of the driver and per scenario.
    std::string tmp = fs::path(opts.tmp_root).filename().string();
    so.pipe_prefix = "npipe-" + tmp.substr(tmp.find('-') + 1) + "." + std::to_string(n) + "-";
  }
  so.log_dir = opts.log_root + "/" + sanitize(def.name + "." + res.roles_label());
  fs::create_directories(so.log_dir);
  if (!platform::make_private_dir(so.dir)) return finish("ERROR", "driver: cannot make " + so.dir);

  std::string status = "PASS";
  std::string message;
  std::vector<std::string> extra;
  std::atomic<bool> fired{false};
  {
    scene s(def, roles, so);
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    // The watchdog: kills every agent (and shuts the driver's sockets) when the scenario
    // overruns, so any wait in the body ends. If even that does not end it, the suite stops
    // rather than hang: a hung conformance run is worse than a failed one.
    std::thread watchdog([&] {
      std::unique_lock<std::mutex> lock(mu);
      if (cv.wait_for(lock, opts.watchdog * slow, [&] { return done; })) return;
      fired = true;
      s.kill_everything();
      if (cv.wait_for(lock, std::chrono::seconds(20), [&] { return done; })) return;
      std::cerr << "npipe-conformance: " << def.name << " is stuck after its watchdog; aborting\n";
      std::_Exit(3);
    });
    try {
      def.body(s);
      s.finish_agents();
      std::string left = leftovers(so.dir, s.driver_made_paths());
      if (!left.empty()) {
        status = "FAIL";
        message = "left over in the scenario's directory: " + left;
      }
    } catch (const step_failed& e) {
      status = "FAIL";
      message = e.what();
      extra = e.extra_requirements;
    } catch (const not_applicable& e) {
      status = "N/A";
      message = e.what();
    } catch (const skipped& e) {
      status = "SKIP";
      message = e.what();
    } catch (const agent_crash& e) {
      status = "CRASH";
      message = e.what();
    } catch (const agent_timeout& e) {
      status = "TIMEOUT";
      message = e.what();
    } catch (const agent_protocol& e) {
      status = "ERROR";
      message = e.what();
    } catch (const std::exception& e) {
      status = "ERROR";
      message = std::string("driver: ") + e.what();
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      done = true;
    }
    cv.notify_all();
    watchdog.join();
    if (fired) {
      status = "TIMEOUT";
      message = "scenario watchdog (" + std::to_string(opts.watchdog.count() * slow) +
                " ms) expired; every agent was killed" +
                (message.empty() ? "" : "; then: " + message);
    }
    for (const auto& note : s.notes())
      message += (message.empty() ? "" : "; ") + note;
    res.logs = s.log_paths();
  }  // the scene's destructor kills whatever is still alive
  platform::remove_tree(so.dir);
  for (const auto& e : extra)
    if (std::find(res.requirements.begin(), res.requirements.end(), e) == res.requirements.end())
      res.requirements.push_back(e);
  // Keep only the logs that say something.
  std::vector<std::string> logs;
  for (const auto& l : res.logs) {
    std::error_code ec;
    if (fs::file_size(l, ec) > 0 && !ec)
      logs.push_back(l);
    else
      fs::remove(l, ec);
  }
  res.logs = logs;
  std::error_code ec;
  fs::remove(so.log_dir, ec);  // only succeeds when empty
  return finish(status, message);
}

}  // namespace npipe::conformance
