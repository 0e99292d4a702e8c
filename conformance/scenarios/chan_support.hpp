// chan_support.hpp: the usual Channel set-ups shared by the chan_*.cpp scenarios.
#pragma once

#include <string>

#include "scenario.hpp"
#include "support.hpp"

namespace npipe::conformance::support {

struct chan_pair {
  std::string listener;  // on the server
  std::string server;    // the server's connection
  std::string client;    // the client's connection
};

// The server listens at `address` and accepts while the client connects (both in flight, since
// with a key the connect waits for the handshake). `auth` adds authkey/challenge fields: its
// "server" and "client" members go to listen and connect.
chan_pair connect_pair(scene& s, actor& server, actor& client, const std::string& address,
                       const json& server_auth = json::object(),
                       const json& client_auth = json::object());

// One message each way, checked.
void exchange(scene& s, actor& server, actor& client, const chan_pair& p);

std::string recv_data(scene& s, actor& who, const std::string& handle);

}  // namespace npipe::conformance::support
