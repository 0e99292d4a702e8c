// agent.cpp: the JSON-lines conversation with one agent (see agent.hpp).
#include "agent.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "outcome.hpp"
#include "reply_parser.hpp"

namespace npipe::conformance {
namespace {

using clock_type = std::chrono::steady_clock;

int ms_left(clock_type::time_point end) {
  auto left = std::chrono::duration_cast<milliseconds>(end - clock_type::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

}  // namespace

agent::agent(const options& opts) : opts_(opts) {
  process::options po;
  po.command = opts.impl->command;
  po.log_path = opts.log_path;
  po.umask = opts.umask;
  po.cwd = opts.cwd;
  proc_ = std::make_unique<process>(po);
  // Non-blocking stdin: a write to an agent that stopped reading must not hang the driver.
  fcntl(proc_->stdin_fd(), F_SETFL, fcntl(proc_->stdin_fd(), F_GETFL) | O_NONBLOCK);
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
  auto end = clock_type::now() + opts_.step_timeout;
  std::size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(proc_->stdin_fd(), line.data() + done, line.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{proc_->stdin_fd(), POLLOUT, 0};
      int left = ms_left(end);
      if (left == 0 || ::poll(&p, 1, left) == 0) {
        kill();
        throw agent_timeout(label() + " stopped reading its stdin while sent " + brief(cmd));
      }
      continue;
    }
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
    pollfd p{proc_->stdout_fd(), POLLIN, 0};
    int rc = ::poll(&p, 1, ms_left(end));
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) return std::nullopt;
    char chunk[65536];
    ssize_t n = ::read(proc_->stdout_fd(), chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      crashed(in_flight_ ? "running " + brief(last_) : std::string("idle, after its last reply"));
    buf_.append(chunk, static_cast<std::size_t>(n));
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
