// chan_listen.cpp: listen, connect and accept (spec/npipe.md, "Channel profile: listen, connect,
// accept", "Channel profile: lifetime").
#include <cstring>
#include <fstream>

#include "chan_support.hpp"
#include "raw_peer.hpp"

namespace npipe::conformance {
namespace {

using namespace support;

// A socket file nobody listens on: bound, then closed without unlinking.
std::string stale_socket(scene& s, const std::string& leaf) {
  std::string p = s.path(leaf);
  make_socket_file(s, p, false);
  return p;
}

}  // namespace

NPIPE_SCENARIO(chan_listen, connect_without_listener_not_found, "CHAN-CONNECT-1", "channel",
               "agent", needs::posix("a stale AF_UNIX socket file made by the driver"),
               "Connecting where no listener is gives not_found (no file, stale socket)") {
  s.agent1().fails({{"op", "connect"}, {"address", s.path("nothing")}}, "not_found");
  std::string stale = stale_socket(s, "stale");
  s.driver_made(stale);
  s.agent1().fails({{"op", "connect"}, {"address", stale}}, "not_found");
}

NPIPE_SCENARIO(chan_listen, connect_deadline_missing_not_found_at_once, "CHAN-CONNECT-1", "channel",
               "agent",
               "A connect with a deadline where no listener is fails not_found at once, not when "
               "the deadline passes") {
  const long deadline_ms = s.options().step_timeout.count() * 4 / 5;
  auto t0 = std::chrono::steady_clock::now();
  s.agent1().fails({{"op", "connect"}, {"address", s.path("nothing")}, {"timeout_ms", deadline_ms}},
                   "not_found");
  long took = ms_since(t0);
  s.expect(took < deadline_ms / 2, "not_found came after " + std::to_string(took) + " ms of a " +
                                       std::to_string(deadline_ms) +
                                       " ms deadline: the connect waited for a listener");
}

NPIPE_SCENARIO(chan_listen, connect_waits_while_backlog_full, "CHAN-CONNECT-4", "channel", "agent",
               needs::posix("a listener of the driver's whose backlog it fills"),
               "A connect to a listener whose queue is full waits, and completes once a place "
               "frees") {
  std::string a = s.path("busy");
  int queued = 0;
  int l = raw::listen_full(s, a, queued);
  call c = s.agent1().start({{"op", "connect"}, {"address", a}});
  s.expect_pending(
      c, "a connect to a listener whose queue is full (" + std::to_string(queued) + " waiting)");
  // One place frees: the waiting connect gets in (busy is waited for, never reported).
  raw::accept(s, l, s.options().step_timeout);
  handle_of(s, c.ok());
}

NPIPE_SCENARIO(chan_listen, connect_deadline_while_backlog_full, "CHAN-CONNECT-4", "channel",
               "agent", needs::posix("a listener of the driver's whose backlog it fills"),
               "A connect to a full listener fails timeout at its deadline, would_block in the "
               "immediate form") {
  std::string a = s.path("busy");
  int queued = 0;
  raw::listen_full(s, a, queued);
  s.agent1().fails({{"op", "connect"}, {"address", a}, {"timeout_ms", 0}}, "would_block");
  auto t0 = std::chrono::steady_clock::now();
  s.agent1().fails({{"op", "connect"}, {"address", a}, {"timeout_ms", 300}}, "timeout");
  long took = ms_since(t0);
  s.expect(took >= 270,
           "timeout reported after " + std::to_string(took) + " ms, before the 300 ms deadline");
}

NPIPE_SCENARIO(chan_listen, socket_mode_0600, "CHAN-LISTEN-1", "channel", "agent",
               needs::posix("umask and stat of the socket mode"),
               "The listener's socket file has mode 0600, even under umask 0") {
  s.role("agent", 0, 0u);
  std::string a = s.path("sock");
  s.agent1().ok({{"op", "listen"}, {"address", a}});
  auto st = lstat_of(a);
  s.expect(st && st->kind == path_kind::socket, "listen made no socket file");
  char buf[64];
  std::snprintf(buf, sizeof buf, "the socket file has mode %04o, not 0600", st->mode);
  s.expect(st->mode == 0600, buf);
}

NPIPE_SCENARIO(chan_listen, address_in_use, "CHAN-LISTEN-2", "channel", "server client",
               "Listening where a live listener is gives already_exists and does not disturb it") {
  std::string a = s.path("sock");
  std::string l = handle_of(s, s.role("server").ok({{"op", "listen"}, {"address", a}}));
  s.role("client").fails({{"op", "listen"}, {"address", a}}, "already_exists");
  call c = s.role("client").start({{"op", "connect"}, {"address", a}});
  call acc = s.role("server").start({{"op", "accept"}, {"handle", l}});
  chan_pair p{l, handle_of(s, acc.ok()), handle_of(s, c.ok())};
  exchange(s, s.role("server"), s.role("client"), p);
}

NPIPE_SCENARIO(chan_listen, stale_socket_replaced, "CHAN-LISTEN-3", "channel", "server client",
               needs::posix("a stale AF_UNIX socket file made by the driver"),
               "A stale socket file (connect refused) is replaced by a new listener") {
  std::string a = stale_socket(s, "sock");
  auto p = connect_pair(s, s.role("server"), s.role("client"), a);
  exchange(s, s.role("server"), s.role("client"), p);
}

NPIPE_SCENARIO(chan_listen, non_socket_left_alone, "CHAN-LISTEN-4", "channel", "agent",
               needs::posix("files, directories and FIFOs made at the address"),
               "A regular file, directory or FIFO at the address gives already_exists, untouched") {
  std::string f = s.path("file");
  std::ofstream(f) << "keep";
  s.driver_made(f);
  std::string d = s.path("dir");
  make_directory(s, d);
  std::string fifo = s.path("fifo");
  make_fifo(s, fifo);
  for (const auto& p : {f, d, fifo})
    s.agent1().fails({{"op", "listen"}, {"address", p}}, "already_exists");
  s.expect(file_content(f) == "keep", "the regular file was changed");
  auto st = lstat_of(fifo);
  s.expect(st && st->kind == path_kind::fifo, "the FIFO was replaced");
  st = lstat_of(d);
  s.expect(st && st->kind == path_kind::directory, "the directory was replaced");
}

NPIPE_SCENARIO(chan_listen, close_removes_own_socket_only, "CHAN-LISTEN-5", "channel", "agent",
               needs::posix("stat of the socket file and a file made at the address"),
               "Closing a listener removes its socket file, but not a file that replaced it") {
  std::string a = s.path("sock");
  std::string l = handle_of(s, s.agent1().ok({{"op", "listen"}, {"address", a}}));
  s.agent1().ok({{"op", "close"}, {"handle", l}});
  s.expect(!lstat_of(a), "the socket file survived the listener's close");
  std::string b = s.path("sock2");
  std::string l2 = handle_of(s, s.agent1().ok({{"op", "listen"}, {"address", b}}));
  remove_name(b);
  std::ofstream(b) << "someone else's";
  s.driver_made(b);
  s.agent1().ok({{"op", "close"}, {"handle", l2}});
  s.expect(file_content(b) == "someone else's",
           "closing the listener removed a file it did not make");
}

NPIPE_SCENARIO(chan_listen, accept_blocks_until_client, "CHAN-ACCEPT-1", "channel", "server client",
               "Accept blocks until a client comes") {
  std::string a = s.path("sock");
  std::string l = handle_of(s, s.role("server").ok({{"op", "listen"}, {"address", a}}));
  call acc = s.role("server").start({{"op", "accept"}, {"handle", l}});
  s.expect_pending(acc, "accept with no client");
  std::string c = handle_of(s, s.role("client").ok({{"op", "connect"}, {"address", a}}));
  exchange(s, s.role("server"), s.role("client"), {l, handle_of(s, acc.ok()), c});
}

NPIPE_SCENARIO(chan_listen, accept_deadline_times_out, "CHAN-ACCEPT-1", "channel", "agent",
               "Accept with a deadline and no client gives timeout") {
  std::string l = handle_of(s, s.agent1().ok({{"op", "listen"}, {"address", s.path("sock")}}));
  auto t0 = std::chrono::steady_clock::now();
  s.agent1().fails({{"op", "accept"}, {"handle", l}, {"timeout_ms", 300}}, "timeout");
  s.expect(ms_since(t0) >= 270, "accept timed out before its deadline");
  s.agent1().fails({{"op", "accept"}, {"handle", l}, {"timeout_ms", 0}}, "would_block");
}

NPIPE_SCENARIO(chan_listen, many_clients, "CHAN-ACCEPT-2", "channel", "server client",
               "One listener serves three clients, each on its own connection") {
  const int n = 3;
  std::string a = s.path("sock");
  std::string l = handle_of(s, s.role("server").ok({{"op", "listen"}, {"address", a}}));
  std::vector<std::string> clients;
  for (int i = 0; i < n; ++i) {
    call c = s.role("client", i).start({{"op", "connect"}, {"address", a}});
    call acc = s.role("server").start({{"op", "accept"}, {"handle", l}});
    clients.push_back(handle_of(s, c.ok()));
    std::string conn = handle_of(s, acc.ok());
    // Each client names itself; the server answers on the connection it heard it on.
    s.role("client", i)
        .ok({{"op", "send"},
             {"handle", clients.back()},
             {"data", b64("client " + std::to_string(i))}});
    std::string heard = recv_data(s, s.role("server"), conn);
    s.role("server").ok({{"op", "send"}, {"handle", conn}, {"data", b64("ack " + heard)}});
  }
  for (int i = 0; i < n; ++i)
    s.expect(recv_data(s, s.role("client", i), clients[static_cast<std::size_t>(i)]) ==
                 "ack client " + std::to_string(i),
             "client " + std::to_string(i) + " got another client's answer");
}

namespace {

// A client that connected and left before accept; the next client must still be served.
void leaver_then_client(scene& s, const json& auth) {
  std::string a = s.path("sock");
  json listen = {{"op", "listen"}, {"address", a}};
  json connect = {{"op", "connect"}, {"address", a}};
  for (auto& [k, v] : auth.items())
    listen[k] = connect[k] = v;
  std::string l = handle_of(s, s.role("server").ok(listen));
  // The leaver: a raw connection from the driver, closed at once, before any accept.
  int fd = raw::connect(s, a, s.options().step_timeout);
  s.close_fd(fd);
  call c = s.role("client").start(connect);
  // The first accept may return the leaver's connection (EOF on it), or fail on its handshake,
  // or skip it; at most two accepts must reach the real client.
  for (int attempt = 0;; ++attempt) {
    json r = s.role("server").reply({{"op", "accept"}, {"handle", l}});
    if (r["ok"].get<bool>()) {
      std::string conn = handle_of(s, r);
      if (attempt == 0 && auth.empty()) {
        // Without a handshake the leaver's connection looks fine until read: EOF tells.
        json m = s.role("server").ok({{"op", "recv"}, {"handle", conn}, {"timeout_ms", 2000}});
        if (m.value("eof", false)) continue;
        s.fail("the first accepted connection carried data nobody sent: " + m.dump());
      }
      std::string cl = handle_of(s, c.ok());
      exchange(s, s.role("server"), s.role("client"), {l, conn, cl});
      return;
    }
    if (attempt >= 1) s.fail("the listener did not serve the client after a leaver: " + r.dump());
  }
}

}  // namespace

NPIPE_SCENARIO(chan_listen, leaver_before_accept, "CHAN-CONNECT-2", "channel", "server client",
               needs::posix("the driver's raw AF_UNIX peer (the leaver)"),
               "A client that connects and leaves before accept does not stop the next one") {
  leaver_then_client(s, json::object());
}

NPIPE_SCENARIO(chan_listen, leaver_before_accept_with_key, "CHAN-CONNECT-2 CHAN-AUTH-5", "channel",
               "server client", needs::posix("the driver's raw AF_UNIX peer (the leaver)"),
               "With a key, a client that leaves before accept does not stop the next one") {
  leaver_then_client(s, {{"authkey", b64("k3y")}});
}

NPIPE_SCENARIO(chan_listen, killed_listener_leaves_stale_socket,
               "CHAN-LIFE-1 CHAN-LISTEN-3 CHAN-CONNECT-1", "channel", "server client",
               "A killed listener leaves a stale socket file on POSIX; connect gives not_found; "
               "a new listener replaces it") {
  std::string a = s.path("sock");
  s.role("server").ok({{"op", "listen"}, {"address", a}});
  bool posix = s.role("server").posix();
  s.role("server").kill();
  if (!posix) return;
  auto st = lstat_of(a);
  s.expect(st && st->kind == path_kind::socket,
           "on POSIX a killed listener's socket file persists");
  s.role("client").fails({{"op", "connect"}, {"address", a}}, "not_found");
  auto p = connect_pair(s, s.role("client"), s.role("client", 1), a);
  exchange(s, s.role("client"), s.role("client", 1), p);
  s.note("PLATFORM-DEFINED CHAN-LIFE-1: outcome (a) seen: the killed listener's socket file stays");
}

}  // namespace npipe::conformance

namespace npipe::conformance {

NPIPE_SCENARIO(chan_listen, address_too_long, "NAME-4", "channel", "agent",
               "An address longer than sun_path gives invalid_name and is never truncated") {
  std::string longname = s.path(std::string(150, 'a'));
  s.agent1().fails({{"op", "listen"}, {"address", longname}}, "invalid_name");
  s.agent1().fails({{"op", "connect"}, {"address", longname}}, "invalid_name");
  // A truncated bind would have made a socket file under a shorter name in the directory.
}

NPIPE_SCENARIO(
    chan_listen, next_client_finds_the_listener, "CHAN-LISTEN-7", "channel", "server client",
    "While a listener is open a client never gets not_found, also right after an accept") {
  std::string a = s.path("sock");
  std::string l = handle_of(s, s.role("server").ok({{"op", "listen"}, {"address", a}}));
  // Each connect comes while the server is not inside accept: the listener must already offer a
  // fresh instance (Windows) or queue the client (POSIX).
  for (int i = 0; i < 3; ++i) {
    call c = s.role("client").start({{"op", "connect"}, {"address", a}});
    std::string acc = handle_of(s, s.role("server").ok({{"op", "accept"}, {"handle", l}}));
    std::string cli = handle_of(s, c.ok());
    s.role("server").ok({{"op", "close"}, {"handle", acc}});
    s.role("client").ok({{"op", "close"}, {"handle", cli}});
  }
}

}  // namespace npipe::conformance
