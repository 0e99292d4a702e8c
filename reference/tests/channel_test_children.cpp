// The child processes the Channel profile tests start with process::spawn_self: each plays one
// side of a channel and reports what happened as lines on stdout ("ready", "msg X", "error NAME").
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "channel_test_util.hpp"
#include "npipe/channel.hpp"
#include "npipe/error.hpp"
#include "support.hpp"

namespace {

using namespace std::chrono_literals;

void say(const std::string& line) {
  std::cout << line << std::endl;  // endl flushes: the parent reads line by line
}

void say_error(const npipe::error& e) {
  say(std::string("error ") + npipe::errc_name(e.value()));
  std::cerr << "child: " << e.what() << "\n";
}

// Blocks until the parent closes our stdin: how a child is told to finish.
void wait_for_stdin_eof() {
  char c;
  while (::read(0, &c, 1) > 0) {
  }
}

}  // namespace

// args: address authkey|- sha256|md5 count. Accepts `count` clients one after the other; for each,
// reports every message and echoes it back as "echo:<msg>", until EOF.
NPIPE_TEST_CHILD(chan_echo_listener) {
  const auto& a = npipe::test::child_args();
  auto l = npipe::listener::listen(a.at(0), npipe::chantest::listener_from_arg(a.at(1), a.at(2)));
  say("ready");
  const int count = std::stoi(a.at(3));
  for (int i = 0; i < count; ++i) {
    try {
      npipe::connection c = l.accept(npipe::deadline::after(20s));
      say("accepted");
      for (;;) {
        auto m = c.recv_bytes(SIZE_MAX, npipe::deadline::after(20s));
        if (!m) {
          say("eof");
          break;
        }
        say("msg " + npipe::chantest::text(m));
        c.send_bytes("echo:" + npipe::chantest::text(m));
      }
    } catch (const npipe::error& e) {
      say_error(e);
    }
  }
  say("done");
  return 0;
}

// args: address authkey|- sha256|md5 message. Connects, sends, reports the reply.
NPIPE_TEST_CHILD(chan_client) {
  const auto& a = npipe::test::child_args();
  try {
    auto c = npipe::connection::connect(a.at(0), npipe::chantest::auth_from_arg(a.at(1), a.at(2)),
                                        npipe::deadline::after(20s));
    say("connected");
    c.send_bytes(a.at(3));
    say("reply " + npipe::chantest::text(c.recv_bytes(SIZE_MAX, npipe::deadline::after(20s))));
  } catch (const npipe::error& e) {
    say_error(e);
    return 3;
  }
  return 0;
}

// args: address. Connects without any handshake and leaves at once.
NPIPE_TEST_CHILD(chan_connect_and_leave) {
  const auto& a = npipe::test::child_args();
  auto c = npipe::connection::connect(a.at(0), {}, npipe::deadline::after(20s));
  say("left");
  return 0;
}

// args: address. Listens and holds the address until stdin closes (or it is killed).
NPIPE_TEST_CHILD(chan_listen_and_hold) {
  const auto& a = npipe::test::child_args();
  auto l = npipe::listener::listen(a.at(0));
  say("ready");
  wait_for_stdin_eof();
  return 0;
}

// args: address. Listens, then accepts with no deadline and reports the first message.
NPIPE_TEST_CHILD(chan_accept_forever) {
  const auto& a = npipe::test::child_args();
  auto l = npipe::listener::listen(a.at(0));
  say("ready");
  npipe::connection c = l.accept();
  say("accepted");
  say("msg " + npipe::chantest::text(c.recv_bytes()));
  return 0;
}

// args: address. Connects, sends one message, and waits to be killed.
NPIPE_TEST_CHILD(chan_send_and_hang) {
  const auto& a = npipe::test::child_args();
  auto c = npipe::connection::connect(a.at(0), {}, npipe::deadline::after(20s));
  c.send_bytes("before death");
  say("sent");
  wait_for_stdin_eof();
  return 0;
}

// args: address. Connects without a key and says nothing until stdin closes: against a listener
// with a key, a client that never answers the challenge.
NPIPE_TEST_CHILD(chan_connect_and_wait) {
  const auto& a = npipe::test::child_args();
  auto c = npipe::connection::connect(a.at(0), {}, npipe::deadline::after(20s));
  say("connected");
  wait_for_stdin_eof();
  return 0;
}

// args: address. Connects and echoes every message back unchanged until EOF.
NPIPE_TEST_CHILD(chan_echo_client) {
  const auto& a = npipe::test::child_args();
  try {
    auto c = npipe::connection::connect(a.at(0), {}, npipe::deadline::after(20s));
    while (auto m = c.recv_bytes(SIZE_MAX, npipe::deadline::after(20s))) {
      c.send_bytes(m->data(), m->size());
    }
    say("eof");
  } catch (const npipe::error& e) {
    say_error(e);
    return 3;
  }
  return 0;
}
