// chan_support.cpp: Channel set-ups (see chan_support.hpp).
#include "chan_support.hpp"

namespace npipe::conformance::support {

chan_pair connect_pair(scene& s, actor& server, actor& client, const std::string& address,
                       const json& server_auth, const json& client_auth) {
  chan_pair p;
  json listen = {{"op", "listen"}, {"address", address}};
  for (auto& [k, v] : server_auth.items())
    listen[k] = v;
  p.listener = handle_of(s, server.ok(listen));
  json connect = {{"op", "connect"}, {"address", address}};
  for (auto& [k, v] : client_auth.items())
    connect[k] = v;
  call c = client.start(connect);
  call a = server.start({{"op", "accept"}, {"handle", p.listener}});
  p.client = handle_of(s, c.ok());
  p.server = handle_of(s, a.ok());
  return p;
}

std::string recv_data(scene& s, actor& who, const std::string& handle) {
  json r = who.ok({{"op", "recv"}, {"handle", handle}});
  if (r.value("eof", false)) s.fail(who.raw().label() + " got EOF where a message was due");
  return data_of(s, r);
}

void exchange(scene& s, actor& server, actor& client, const chan_pair& p) {
  client.ok({{"op", "send"}, {"handle", p.client}, {"data", b64("ping")}});
  s.expect(recv_data(s, server, p.server) == "ping", "the server got a different message");
  server.ok({{"op", "send"}, {"handle", p.server}, {"data", b64("pong")}});
  s.expect(recv_data(s, client, p.client) == "pong", "the client got a different message");
}

}  // namespace npipe::conformance::support
