// event_loop: one thread serving many channels with poll(2), npipe's non-blocking forms and no
// exceptions: an echo server for multiprocessing.connection clients (no authkey: a handshake
// would have to run on a thread of its own, see mp_server.cpp). POSIX.
//
//   event_loop ADDRESS CLIENTS    # echoes every message; exits once CLIENTS clients have left
//
// How it uses npipe (npipe/channel.hpp, native_handle()): it waits for each descriptor to become
// readable, then receives with deadline::immediate() until would_block. The reader never reads
// past the message it is receiving, so a message is never left waiting in user space while its
// socket looks idle; a socket that is readable with only part of a message gives would_block,
// keeps what arrived, and is polled again.
#include <poll.h>
#include <npipe/npipe.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <system_error>
#include <vector>

namespace {

struct client {
  npipe::connection conn;
  unsigned long messages = 0;
};

// Receives and echoes every whole message there is now; false when the client is gone.
bool serve_ready(client& c) {
  using namespace std::chrono_literals;
  for (;;) {
    std::error_code ec;
    std::optional<npipe::bytes> m = c.conn.recv_bytes(1 << 20, npipe::deadline::immediate(), ec);
    if (ec == npipe::errc::would_block) return true;  // nothing more yet, or part of a message
    if (ec) {
      std::printf("dropping a client: %s\n", ec.message().c_str());
      return false;
    }
    if (!m) return false;  // EOF on a message boundary: the client closed
    ++c.messages;
    // A client that stops reading cannot stall the loop for more than this.
    c.conn.send_bytes(m->data(), m->size(), npipe::deadline::after(1s), ec);
    if (ec) {
      std::printf("dropping a client: echo failed: %s\n", ec.message().c_str());
      return false;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: event_loop ADDRESS CLIENTS\n");
    return 2;
  }
  std::error_code ec;
  npipe::listener l = npipe::listener::listen(argv[1], {}, ec);
  if (ec) {
    std::fprintf(stderr, "event_loop: listen on %s: %s\n", argv[1], ec.message().c_str());
    return 1;
  }
  const unsigned long wanted = std::stoul(argv[2]);
  unsigned long finished = 0;
  unsigned long messages = 0;
  std::size_t most_at_once = 0;
  std::vector<client> clients;
  std::printf("ready\n");
  std::fflush(stdout);
  while (finished < wanted) {
    std::vector<pollfd> fds;
    fds.push_back({l.native_handle(), POLLIN, 0});
    for (const client& c : clients)
      fds.push_back({c.conn.native_handle(), POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) continue;  // EINTR
    // Served first, so that the indices still match fds.
    for (std::size_t i = clients.size(); i-- > 0;) {
      if (fds[i + 1].revents == 0) continue;
      if (!serve_ready(clients[i])) {
        messages += clients[i].messages;
        ++finished;
        clients.erase(clients.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
    if (fds[0].revents != 0) {
      for (;;) {  // every client that is waiting
        npipe::connection c = l.accept(npipe::deadline::immediate(), ec);
        if (ec == npipe::errc::would_block) break;
        if (ec) {
          std::printf("accept: %s\n", ec.message().c_str());
          break;
        }
        clients.push_back({std::move(c), 0});
      }
      if (clients.size() > most_at_once) most_at_once = clients.size();
    }
  }
  std::printf("done: %lu clients, %lu messages echoed, at most %zu connected at once\n", finished,
              messages, most_at_once);
  return 0;
}
