// agent.cpp: the JSON-lines conversation with one agent (see agent.hpp).
#include "agent.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "outcome.hpp"
#include "reply_parser.hpp"

namespace npipe::conformance {
namespace {

using clock_type = std::chrono::steady_clock;

}  // namespace

agent::agent(const options& opts) : opts_(opts) {
  process::options po;
  po.command = opts.impl->command;
  po.log_path = opts.log_path;
  po.umask = opts.umask;
  po.cwd = opts.cwd;
  proc_ = std::make_unique<process>(po);
  send({{"op", "hello"}});
  json r = wait_reply("hello");
  std::string problem = hello_problem(r);
  if (!problem.empty()) protocol(problem);
  hello_ = r;
}

int agent::send(json cmd) {
  if (in_flight_) throw std::logic_error(label() + ": a command is already in flight");
  cmd["id"] = next_id_;
  last_ = cmd;
  std::string line = cmd.dump() + "\n";
  switch (proc_->write_stdin(line, clock_type::now() + opts_.step_timeout)) {
    case process::io::ok:
      break;
    case process::io::timeout:
      kill();
      throw agent_timeout(label() + " stopped reading its stdin while sent " + brief(cmd));
    case process::io::closed:
      crashed("being sent " + brief(cmd));
  }
  in_flight_ = next_id_++;
  return in_flight_;
}

std::optional<json> agent::poll_reply(milliseconds limit) {
  auto end = clock_type::now() + limit;
  for (;;) {
    auto nl = buf_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      parsed_reply parsed = parse_reply(line, in_flight_);
      if (!parsed.problem.empty()) protocol(parsed.problem);
      in_flight_ = 0;
      return std::move(parsed.reply);
    }
    if (buf_.size() > (256u << 20)) protocol("wrote more than 256 MiB without a newline");
    auto left = std::chrono::duration_cast<milliseconds>(end - clock_type::now());
    switch (proc_->read_stdout(buf_, left < milliseconds(0) ? milliseconds(0) : left)) {
      case process::io::ok:
        break;
      case process::io::timeout:
        return std::nullopt;
      case process::io::closed:
        crashed(in_flight_ ? "running " + brief(last_) : std::string("idle, after its last reply"));
    }
  }
}

json agent::wait_reply(const std::string& what) {
  auto r = poll_reply(opts_.step_timeout);
  if (!r) {
    kill();
    throw agent_timeout(label() + " did not answer " + what + " " + brief(last_) + " within " +
                        std::to_string(opts_.step_timeout.count()) + " ms");
  }
  return *r;
}

std::optional<exit_info> agent::finish(milliseconds limit) {
  proc_->close_stdin();
  return proc_->wait_exit(limit);
}

bool agent::alive() {
  return !proc_->try_reap();
}

void agent::kill() {
  proc_->kill_group();
  proc_->wait_exit(milliseconds(5000));
}

std::string agent::stderr_tail(std::size_t max_bytes) const {
  std::ifstream f(opts_.log_path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  if (s.size() > max_bytes) s = "..." + s.substr(s.size() - max_bytes);
  return s;
}

void agent::crashed(const std::string& while_doing) {
  // Give it a moment to finish dying so the exit status is known, then make sure it is gone.
  auto e = proc_->wait_exit(milliseconds(2000));
  proc_->kill_group();
  if (!e) e = proc_->wait_exit(milliseconds(2000));
  std::string how = e ? e->describe() : "closed its stdout";
  std::string tail = stderr_tail();
  throw agent_crash(label() + " " + how + " while " + while_doing +
                    (tail.empty() ? "" : "; stderr: " + tail));
}

void agent::protocol(const std::string& why) {
  kill();
  throw agent_protocol("PROTOCOL: " + label() + " " + why);
}

}  // namespace npipe::conformance
