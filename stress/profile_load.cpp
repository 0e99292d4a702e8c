// stress/profile_load.cpp: many concurrent clients (CHAN-ACCEPT-2, CHAN-AUTH-*) and descriptor
// starvation (ERR-1, ERR-5, CHAN-ACCEPT-3).
#include <sys/socket.h>

#include <atomic>
#include <cstring>
#include <optional>

#include "npipe/npipe.hpp"
#include "stress.hpp"

namespace stress {
namespace {

using npipe::deadline;
using npipe::errc;

// One listener thread serving `clients` echo clients (threads), all started at once.
void concurrent_round(const config& c, bool key, row& r) {
  temp_dir dir;
  const std::string path = dir.file("many.sock");
  npipe::listener_options lo;
  npipe::auth_options co;
  if (key) lo.authkey = co.authkey = "many-clients-key";
  npipe::listener l = npipe::listener::listen(path, lo);
  const int n = c.clients;
  std::atomic<int> served{0}, server_errors{0}, client_ok{0};
  std::vector<std::string> client_failures(static_cast<std::size_t>(n));
  auto start = clock_type::now();
  std::thread server([&] {
    for (int i = 0; i < n; ++i) {
      try {
        npipe::connection conn = l.accept(deadline::after(30s));
        auto m = conn.recv_bytes(1024, deadline::after(30s));
        if (m) conn.send_bytes(m->data(), m->size());
        ++served;
      } catch (const npipe::error& e) {
        ++server_errors;
        if (e.value() == errc::timeout) break;
      }
    }
  });
  std::vector<std::thread> clients;
  clients.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    clients.emplace_back([&, i] {
      try {
        npipe::connection conn = npipe::connection::connect(path, co, deadline::after(30s));
        const std::string msg = "client-" + std::to_string(i);
        conn.send_bytes(msg);
        auto back = conn.recv_bytes(1024, deadline::after(30s));
        if (back && std::string(back->begin(), back->end()) == msg) {
          ++client_ok;
        } else {
          client_failures[static_cast<std::size_t>(i)] = "wrong or no echo";
        }
      } catch (const npipe::error& e) {
        client_failures[static_cast<std::size_t>(i)] = e.what();
      }
    });
  }
  for (auto& t : clients)
    t.join();
  server.join();
  const long ms = elapsed_ms(start);
  r.trials += n;
  r.faults += n;
  r.survived += client_ok.load();
  if (client_ok.load() != n || served.load() != n) {
    std::string first;
    for (const auto& f : client_failures) {
      if (!f.empty()) {
        first = f;
        break;
      }
    }
    r.fail(std::to_string(n) + " concurrent clients" + (key ? " with authkey" : "") + ": " +
           std::to_string(client_ok.load()) + " served correctly, server errors " +
           std::to_string(server_errors.load()) + (first.empty() ? "" : "; first: " + first));
  } else {
    r.note(std::to_string(n) + " concurrent clients" + (key ? " with authkey" : " without key") +
           ": all served in " + std::to_string(ms) + " ms");
  }
}

// In a child whose RLIMIT_NOFILE leaves room for only a few more descriptors.
// Returns a bit set of failures (0: all good); writes a line per finding to stderr.
int starved_listener(const std::string& dir, int pending_clients, notify_pipe& ready) {
  auto fail = [](const char* what) { std::fprintf(stderr, "[rlimit] FAIL (child): %s\n", what); };
  int failures = 0;
  npipe::listener l = npipe::listener::listen(dir + "/starved.sock");
  const std::string fifo_path = dir + "/starved.fifo";
  // Leave room for exactly 2 more descriptors.
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  const int open_now = count_fds();
  // The highest descriptor number decides, not the count: find it.
  int highest = 0;
  for (int fd = 0; fd < 4096; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1) highest = fd;
  }
  rl.rlim_cur = static_cast<rlim_t>(highest + 1 + 16);
  ::setrlimit(RLIMIT_NOFILE, &rl);
  (void)open_now;
  // Fill every free slot below the limit (holes included), then free exactly two.
  std::vector<int> fillers;
  for (int fd; (fd = ::dup(2)) >= 0;)
    fillers.push_back(fd);
  for (int i = 0; i < 2 && !fillers.empty(); ++i) {
    ::close(fillers.back());
    fillers.pop_back();
  }
  ready.signal();

  std::vector<npipe::connection> held;
  bool saw_exhaustion = false;
  for (int i = 0; i < pending_clients; ++i) {
    try {
      held.push_back(l.accept(deadline::after(5s)));
    } catch (const npipe::error& e) {
      if (e.value() != errc::io_error) {
        fail("accept without descriptors: not io_error");
        std::fprintf(stderr, "  %s\n", e.what());
        failures |= 1;
      }
      saw_exhaustion = true;
      break;
    }
  }
  if (!saw_exhaustion) {
    fail("accept never ran out of descriptors");
    failures |= 2;
  }
  // Other calls without descriptors: clean errors, nothing left behind.
  try {
    npipe::connection c =
        npipe::connection::connect(dir + "/starved.sock", {}, deadline::after(1s));
    fail("connect without descriptors succeeded");
  } catch (const npipe::error& e) {
    if (e.value() != errc::io_error) {
      fail("connect without descriptors: not io_error");
      std::fprintf(stderr, "  %s\n", e.what());
      failures |= 4;
    }
  }
  try {
    npipe::fifo_owner o = npipe::fifo_owner::create(fifo_path, npipe::direction::read);
    // Created with the last descriptors? Then it must open cleanly or fail cleanly.
    try {
      npipe::fifo_end e = o.open(deadline::immediate());
    } catch (const npipe::error& e) {
      if (e.value() != errc::io_error && e.value() != errc::would_block) failures |= 8;
    }
  } catch (const npipe::error& e) {
    if (e.value() != errc::io_error) {
      fail("fifo create without descriptors: not io_error");
      std::fprintf(stderr, "  %s\n", e.what());
      failures |= 16;
    }
  }
  if (path_exists(fifo_path)) {
    fail("a failed fifo create left its FIFO behind (ERR-5)");
    failures |= 32;
  }
  // Free the descriptors: the listener must serve the clients still waiting.
  held.clear();
  int served_after = 0;
  for (;;) {
    try {
      npipe::connection c = l.accept(deadline::after(std::chrono::milliseconds(500)));
      ++served_after;
    } catch (const npipe::error& e) {
      if (e.value() != errc::timeout) {
        fail("accept after descriptors were freed failed");
        std::fprintf(stderr, "  %s\n", e.what());
        failures |= 64;
      }
      break;
    }
  }
  std::fprintf(stderr, "[rlimit] child: accepted %d before exhaustion, %d after freeing\n",
               pending_clients - served_after, served_after);
  if (served_after == 0) {
    fail("the listener served nobody once descriptors were free again");
    failures |= 128;
  }
  return failures;
}

}  // namespace

void profile_concurrency(const config& c, std::mt19937_64&, row& r) {
  const int fds_before = count_fds();
  raise_nofile(4 * c.clients + 64);
  watchdog wd(240s, "concurrency profile");
  concurrent_round(c, false, r);
  concurrent_round(c, true, r);
  const int fds_after = count_fds();
  if (fds_after != fds_before) {
    r.fds_leaked += std::abs(fds_after - fds_before);
    r.fail("descriptors before " + std::to_string(fds_before) + ", after " +
           std::to_string(fds_after));
  }
}

void profile_rlimit(const config& c, std::mt19937_64&, row& r) {
  const int rounds = c.quick ? 2 : 10;
  for (int round = 0; round < rounds; ++round) {
    watchdog wd(60s, "rlimit profile");
    temp_dir dir;
    const int clients = 6;
    notify_pipe ready;
    child listener([&] { return starved_listener(dir.path(), clients, ready); });
    ready.parent_side();
    if (ready.wait(10000) <= 0) {
      r.fail("the starved listener did not start");
      ++r.trials;
      continue;
    }
    std::vector<npipe::connection> conns;
    for (int i = 0; i < clients; ++i) {
      try {
        conns.push_back(
            npipe::connection::connect(dir.path() + "/starved.sock", {}, deadline::after(5s)));
      } catch (const npipe::error& e) {
        r.fail(std::string("client of the starved listener: ") + e.what());
      }
    }
    ++r.faults;
    const int st = listener.wait();
    ++r.trials;
    if (st == 0) {
      ++r.survived;
    } else {
      r.fail("the starved listener reported failures (bits " + std::to_string(st) + ")");
    }
  }
}

}  // namespace stress
