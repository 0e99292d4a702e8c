// npipe/channel_commands.cpp: recv and send: the Channel profile from the shell, so a script can
// talk to Python's multiprocessing.connection.Listener and Client.
#include <optional>
#include <vector>

#include "commands.hpp"
#include "common/console.hpp"
#include "npipe/channel.hpp"
#include "options.hpp"

namespace npipe::cli {
namespace {

const std::vector<option_spec> kChannelOptions = {
    {"--authkey-file", true}, {"--challenge", true}, {"--timeout", true}};

}  // namespace

int run_recv(const words& args) {
  parsed_args a = parse_args(args, kChannelOptions);
  expect_positional(a, 1, "ADDRESS");
  npipe::listener_options opts;
  static_cast<npipe::auth_options&>(opts) = parse_auth(a);
  npipe::deadline d = deadline_from(parse_timeout(a));

  npipe::listener l = npipe::listener::listen(a.positional[0], opts);
  tools::remove_on_interrupt(l.address());
  npipe::connection c = l.accept(d);
  // One client is all recv serves: the name goes now, so no later client queues up unanswered.
  l.close();
  tools::keep_on_interrupt();

  while (std::optional<npipe::bytes> msg = c.recv_bytes()) {
    static const char newline = '\n';
    tools::write_stdout(msg->data(), msg->size());
    tools::write_stdout(&newline, 1);
  }
  return 0;
}

int run_send(const words& args) {
  parsed_args a = parse_args(args, kChannelOptions);
  if (a.positional.empty()) throw usage_error("missing ADDRESS");
  npipe::auth_options auth = parse_auth(a);
  npipe::connection c =
      npipe::connection::connect(a.positional[0], auth, deadline_from(parse_timeout(a)));
  for (std::size_t i = 1; i < a.positional.size(); ++i)
    c.send_bytes(a.positional[i]);
  c.close();
  return 0;
}

}  // namespace npipe::cli
