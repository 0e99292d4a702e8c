// chan_auth.cpp: the authentication handshake between two agents, every challenge form on each
// side, and wrong keys (spec/npipe.md, "Channel profile: authentication").
#include "chan_support.hpp"

namespace npipe::conformance {
namespace {

using namespace support;

void handshake(scene& s, const char* server_form, const char* client_form) {
  json key = b64("the shared secret");
  auto p = connect_pair(s, s.role("server"), s.role("client"), s.path("sock"),
                        {{"authkey", key}, {"challenge", server_form}},
                        {{"authkey", key}, {"challenge", client_form}});
  exchange(s, s.role("server"), s.role("client"), p);
}

}  // namespace

NPIPE_SCENARIO(chan_auth, sha256_both, "CHAN-AUTH-1 CHAN-AUTH-3", "channel", "server client",
               "Handshake: both sides challenge with {sha256}") {
  handshake(s, "sha256", "sha256");
}

NPIPE_SCENARIO(chan_auth, md5_both, "CHAN-AUTH-1 CHAN-AUTH-2", "channel", "server client",
               "Handshake: both sides challenge with the legacy MD5 form") {
  handshake(s, "md5", "md5");
}

NPIPE_SCENARIO(chan_auth, sha256_server_md5_client, "CHAN-AUTH-1 CHAN-AUTH-2 CHAN-AUTH-3",
               "channel", "server client",
               "Handshake: the server challenges with {sha256}, the client with MD5") {
  handshake(s, "sha256", "md5");
}

NPIPE_SCENARIO(chan_auth, md5_server_sha256_client, "CHAN-AUTH-1 CHAN-AUTH-2 CHAN-AUTH-3",
               "channel", "server client",
               "Handshake: the server challenges with MD5, the client with {sha256}") {
  handshake(s, "md5", "sha256");
}

NPIPE_SCENARIO(chan_auth, native_forms, "CHAN-AUTH-1", "channel", "server client",
               "Handshake with each side's default challenge form") {
  json key = b64("k");
  auto p = connect_pair(s, s.role("server"), s.role("client"), s.path("sock"), {{"authkey", key}},
                        {{"authkey", key}});
  exchange(s, s.role("server"), s.role("client"), p);
}

NPIPE_SCENARIO(chan_auth, empty_key, "CHAN-AUTH-10", "channel", "server client",
               "The empty key is a key: both sides run the handshake (gh-88118)") {
  auto p = connect_pair(s, s.role("server"), s.role("client"), s.path("sock"), {{"authkey", ""}},
                        {{"authkey", ""}});
  exchange(s, s.role("server"), s.role("client"), p);
}

NPIPE_SCENARIO(chan_auth, wrong_key, "CHAN-AUTH-5 CHAN-ACCEPT-3", "channel", "server client",
               "A wrong key gives auth_failed on both sides, and neither hangs") {
  std::string a = s.path("sock");
  std::string l = handle_of(
      s, s.role("server").ok({{"op", "listen"}, {"address", a}, {"authkey", b64("right")}}));
  call c = s.role("client").start({{"op", "connect"}, {"address", a}, {"authkey", b64("wrong")}});
  call acc = s.role("server").start({{"op", "accept"}, {"handle", l}});
  acc.fails("auth_failed");
  c.fails("auth_failed");
  // The listener is still usable: a client with the right key gets in.
  call c2 =
      s.role("client", 1).start({{"op", "connect"}, {"address", a}, {"authkey", b64("right")}});
  call acc2 = s.role("server").start({{"op", "accept"}, {"handle", l}});
  exchange(s, s.role("server"), s.role("client", 1),
           {l, handle_of(s, acc2.ok()), handle_of(s, c2.ok())});
}

}  // namespace npipe::conformance
