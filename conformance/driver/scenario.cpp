// scenario.cpp: the scenario vocabulary (see scenario.hpp).
#include "scenario.hpp"

#include <algorithm>
#include <sstream>
#include <thread>

#include "blocked.hpp"
#include "expectations.hpp"
#include "platform.hpp"

namespace npipe::conformance {

std::vector<scenario_def>& scenario_registry() {
  static std::vector<scenario_def> all;
  return all;
}

bool scenario_needs::met_by(const std::string& agent_platform) const {
  if (platforms == "all") return true;
  if (platforms == "posix") return agent_platform != "windows";
  return platforms == agent_platform;
}

registrar::registrar(const char* group, const char* name, const char* reqs, const char* profile,
                     const char* roles, scenario_needs needs, const char* title,
                     void (*body)(scene&)) {
  scenario_def d;
  d.group = group;
  d.short_name = name;
  d.name = std::string(group) + "." + name;
  std::istringstream r(reqs);
  for (std::string id; r >> id;)
    d.requirements.push_back(id);
  d.profile = profile;
  std::istringstream ro(roles);
  for (std::string role; ro >> role;)
    d.roles.push_back(role);
  d.needs = std::move(needs);
  d.title = title;
  d.body = body;
  scenario_registry().push_back(std::move(d));
}

bool is_vocabulary_error(const std::string& name) {
  static const char* const names[] = {
      "not_found",   "already_exists",    "timeout",      "would_block",      "broken_pipe",
      "not_a_pipe",  "permission_denied", "invalid_name", "message_too_long", "auth_failed",
      "unsupported", "protocol_error",    "io_error"};
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

namespace {

std::string describe_reply(const json& r) {
  if (r.value("ok", false)) {
    json c = r;
    if (c.contains("data") && c["data"].is_string() && c["data"].get<std::string>().size() > 60)
      c["data"] = "(" + std::to_string(c["data"].get<std::string>().size()) + " base64 chars)";
    return c.dump();
  }
  std::string s = r.value("error", std::string("?"));
  if (r.contains("native") && r["native"].is_string())
    s += " [" + r["native"].get<std::string>() + "]";
  if (r.contains("message") && r["message"].is_string())
    s += " \"" + r["message"].get<std::string>() + "\"";
  return s;
}

}  // namespace

json call::reply() {
  json r = a_->wait_reply(what_);
  if (!r["ok"].get<bool>()) {
    if (!r.contains("error") || !r["error"].is_string())
      s_->fail(a_->label() + " failed " + what_ + " without an error name: " + r.dump(), {"ERR-1"});
    std::string e = r["error"].get<std::string>();
    if (e == "unsupported")
      throw not_applicable(a_->label() + " does not support " + what_ + " " +
                           a_->last_command().value("op", std::string()) + ": " +
                           describe_reply(r));
    if (!is_vocabulary_error(e))
      s_->fail(a_->label() + " answered " + what_ + " with \"" + e +
                   "\", which is not in the error vocabulary",
               {"ERR-1"});
  }
  return r;
}

json call::answer() {
  json r = a_->wait_reply(what_);
  if (!r["ok"].get<bool>()) {
    std::string e = r.contains("error") && r["error"].is_string() ? r["error"].get<std::string>()
                                                                  : std::string();
    if (!is_vocabulary_error(e))
      s_->fail(a_->label() + " answered " + what_ + " with " + r.dump() +
                   ", whose error is not in the vocabulary",
               {"ERR-1"});
  }
  return r;
}

json call::ok() {
  json r = reply();
  if (!r["ok"].get<bool>())
    s_->fail(a_->label() + ": " + what_ + " should succeed but failed: " + describe_reply(r));
  return r;
}

json call::fails(const std::string& error) {
  return fails_one_of({error});
}

json call::fails_one_of(const std::vector<std::string>& errors) {
  json r = reply();
  std::string want;
  for (const auto& e : errors)
    want += (want.empty() ? "" : " or ") + e;
  if (r["ok"].get<bool>())
    s_->fail(a_->label() + ": " + what_ + " should fail with " + want +
             " but succeeded: " + describe_reply(r));
  std::string got = r["error"].get<std::string>();
  if (std::find(errors.begin(), errors.end(), got) == errors.end())
    s_->fail(a_->label() + ": " + what_ + " should fail with " + want + " but failed with " +
             describe_reply(r));
  return r;
}

call actor::start(json cmd) {
  std::string what = cmd.value("op", std::string("?"));
  for (const char* k : {"dir", "name", "address"})
    if (cmd.contains(k) && cmd[k].is_string()) {
      std::string v = cmd[k].get<std::string>();
      auto slash = v.rfind('/');
      std::string leaf = slash == std::string::npos ? v : v.substr(slash + 1);
      // A name may carry a NUL byte (NAME-3): shown as \0, or the message would end there.
      for (auto p = leaf.find('\0'); p != std::string::npos; p = leaf.find('\0', p + 2))
        leaf.replace(p, 1, "\\0");
      what += std::string(" ") + k + "=" + leaf;
    }
  a_->send(std::move(cmd));
  return call(*s_, *a_, what);
}

void actor::bye() {
  a_->send({{"op", "bye"}});
  call c(*s_, *a_, "bye");
  c.ok();
  auto e = a_->finish(a_->step_timeout());
  if (!e) {
    a_->kill();
    throw agent_protocol("PROTOCOL: " + a_->label() + " did not exit after bye");
  }
  if (e->signalled || e->code != 0)
    throw agent_protocol("PROTOCOL: " + a_->label() + " " + e->describe() + " after bye");
}

void actor::kill() {
  a_->kill();
}
pid_t actor::pid() const {
  return a_->proc().pid();
}
std::string actor::platform() const {
  return a_->impl().platform();
}

scene::scene(const scenario_def& def, std::map<std::string, const implementation*> roles,
             scene_options opts)
    : def_(def), roles_(std::move(roles)), opts_(std::move(opts)) {}

scene::~scene() {
  kill_everything();
  std::lock_guard<std::mutex> lock(mu_);
  for (int fd : fds_)
    platform::close_socket(fd);
  fds_.clear();
}

const implementation& scene::impl_of(const std::string& role) const {
  auto it = roles_.find(role);
  if (it == roles_.end()) throw std::logic_error("scenario has no role " + role);
  return *it->second;
}

actor& scene::role(const std::string& role, int index, std::optional<unsigned> umask,
                   const std::string& cwd) {
  std::string key = role + (index ? "#" + std::to_string(index + 1) : "");
  auto it = actors_.find(key);
  if (it != actors_.end()) return *it->second;
  agent::options o;
  o.role = key;
  o.impl = &impl_of(role);
  std::string file = key;
  std::replace(file.begin(), file.end(), '#', '-');
  o.log_path = opts_.log_dir + "/" + file + ".log";
  o.umask = umask;
  o.cwd = cwd;
  o.step_timeout = opts_.step_timeout;
  auto a = std::make_unique<agent>(o);
  {
    std::lock_guard<std::mutex> lock(mu_);
    killers_.push_back(a->proc().killer());
  }
  auto& ref = *a;
  agents_[key] = std::move(a);
  order_.push_back(key);
  actors_[key] = std::make_unique<actor>(*this, ref);
  return *actors_[key];
}

void scene::completed_early(call& c, const std::string& what, const json& r) {
  if (!r["ok"].get<bool>() && r.value("error", std::string()) == "unsupported")
    throw not_applicable(c.who().label() + " does not support " + c.what() + ": " +
                         describe_reply(r));
  fail(c.who().label() + ": " + what + " must block, but it completed: " + describe_reply(r));
}

void scene::expect_pending(call& c, const std::string& what) {
  using clock = std::chrono::steady_clock;
  agent& a = c.who();
  auto start = clock::now();
  int consecutive = 0;
  std::vector<pid_t> group;
  for (int round = 0;; ++round) {
    // Waiting on the reply pipe between samples: the agent completing is what we watch for.
    if (auto r = a.poll_reply(std::chrono::milliseconds(5))) completed_early(c, what, *r);
    auto elapsed = clock::now() - start;
    // The group changes rarely (a helper process may appear): rescan /proc every 10 rounds.
    if (round % 10 == 0 && !opts_.grace_only) group = processes_in_group(a.proc().pid());
    // Without /proc proof (a non-Linux agent, such as a Windows one under Wine, whose Linux
    // threads say nothing about the call): the grace period (spec/driver-protocol.md section 6).
    auto sample =
        opts_.grace_only ? block_sample::unknown : sample_blocked(group, a.proc().stdin_drained());
    switch (sample) {
      case block_sample::blocked:
        // Three looks in a row: one look can land between two system calls of a busy agent.
        if (++consecutive >= 3) {
          if (auto r = a.poll_reply(std::chrono::milliseconds(0))) completed_early(c, what, *r);
          return;
        }
        break;
      case block_sample::unknown:
        if (elapsed >= opts_.pending_grace) {
          note(what + ": pending by grace period (no /proc proof)");
          return;
        }
        consecutive = 0;
        break;
      case block_sample::busy:
        consecutive = 0;
        break;
    }
    if (elapsed >= opts_.pending_limit) {
      // Never a failure: a machine too slow to show the block only makes this pass.
      note(what + ": pending by time limit (agent never seen asleep)");
      return;
    }
  }
}

void scene::expect(bool cond, const std::string& message, std::vector<std::string> extra) {
  if (!cond) fail(message, std::move(extra));
}

void scene::fail(const std::string& message, std::vector<std::string> extra) {
  throw step_failed(message, std::move(extra));
}

void scene::allow_slow_steps(int factor) {
  opts_.step_timeout *= factor;
  for (auto& [key, a] : agents_)
    a->set_step_timeout(opts_.step_timeout);
}

int scene::adopt_fd(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  fds_.insert(fd);
  return fd;
}

void scene::close_fd(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  if (fds_.erase(fd)) platform::close_socket(fd);
}

void scene::kill_everything() noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& k : killers_)
    k->kill();
  // Wakes the body if it waits on a driver-side socket.
  for (int fd : fds_)
    platform::shutdown_socket(fd);
}

void scene::finish_agents() {
  std::vector<std::string> problems;
  // EOF to every agent first, so they all shut down at once, then collect them one by one.
  for (const auto& key : order_) {
    agent& a = *agents_[key];
    if (a.alive() && !a.in_flight()) a.proc().close_stdin();
  }
  for (const auto& key : order_) {
    agent& a = *agents_[key];
    if (!a.alive()) continue;  // killed or said bye: judged where that happened
    if (a.in_flight()) {
      problems.push_back(a.label() + " still had a command in flight at the end");
      a.kill();
      continue;
    }
    auto e = a.finish(opts_.step_timeout);
    if (!e) {
      a.kill();
      problems.push_back(a.label() + " did not exit within " +
                         std::to_string(opts_.step_timeout.count()) + " ms of EOF on stdin");
    } else if (e->signalled || e->code != 0) {
      problems.push_back(a.label() + " " + e->describe() + " at EOF on stdin");
    }
  }
  for (const auto& key : order_) {
    agent& a = *agents_[key];
    // A process that was told to end may still be on its way out (a Windows child process under
    // Wine outlives TerminateProcess by a moment): only one still there after a step is left
    // behind. Nothing is waited for when the group is already empty.
    auto rest = a.proc().group_members();
    for (auto until = std::chrono::steady_clock::now() + opts_.step_timeout;
         !rest.empty() && std::chrono::steady_clock::now() < until;
         rest = a.proc().group_members())
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // between two looks
    if (!rest.empty()) {
      problems.push_back(a.label() + " left " + std::to_string(rest.size()) +
                         " process(es) behind in its group");
      a.kill();
    }
  }
  if (!problems.empty()) {
    std::string m;
    for (const auto& p : problems)
      m += (m.empty() ? "" : "; ") + p;
    throw agent_protocol("PROTOCOL: " + m);
  }
}

std::vector<std::string> scene::log_paths() const {
  std::vector<std::string> out;
  for (const auto& key : order_) {
    std::string file = key;
    std::replace(file.begin(), file.end(), '#', '-');
    out.push_back(opts_.log_dir + "/" + file + ".log");
  }
  return out;
}

}  // namespace npipe::conformance
