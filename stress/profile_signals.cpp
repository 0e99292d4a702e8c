// stress/profile_signals.cpp: a 1 ms interval timer firing during long blocking calls and
// transfers (ERR-4, FIFO-IO-*, CHAN-FRAME-*, CHAN-CONNECT-4, CHAN-ACCEPT-1).
//
// Both processes install a no-op SIGALRM handler WITHOUT SA_RESTART and arm setitimer(1 ms), so
// every blocking system call the library makes is interrupted again and again (EINTR). Checks:
// no call fails, not one byte is lost or changed (SHA-256 of the pattern on both sides), blocking
// open / accept / connect / handshake complete, and a connect with a deadline against a full
// backlog still ends at its deadline (a retry that restarts the full timeout on every EINTR
// would never end while the timer runs).
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cstring>
#include <optional>

#include "npipe/npipe.hpp"
#include "protocol/codec.hpp"
#include "stress.hpp"

namespace stress {
namespace {

using npipe::deadline;
using npipe::errc;

volatile sig_atomic_t g_alarms = 0;

void on_alarm(int) {
  g_alarms = g_alarms + 1;
}

// Arms the 1 ms timer with a handler installed without SA_RESTART; disarms on destruction.
class interval_timer {
 public:
  interval_timer() {
    struct sigaction sa {};
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: blocking calls fail with EINTR
    ::sigaction(SIGALRM, &sa, &old_);
    itimerval it{{0, 1000}, {0, 1000}};
    ::setitimer(ITIMER_REAL, &it, nullptr);
  }
  ~interval_timer() {
    itimerval off{};
    ::setitimer(ITIMER_REAL, &off, nullptr);
    ::sigaction(SIGALRM, &old_, nullptr);
  }

 private:
  struct sigaction old_ {};
};

std::string pattern_digest(std::uint64_t total, unsigned seed) {
  npipe::protocol::sha256 h;
  std::vector<std::uint8_t> buf(1 << 16);
  for (std::uint64_t done = 0; done < total;) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(total - done, buf.size()));
    npipe::protocol::fill_pattern(buf.data(), n, seed, done);
    h.update(buf.data(), n);
    done += n;
  }
  return h.hex_digest();
}

// The writer side of a FIFO transfer, in a child: blocking and deadline writes alternate.
int fifo_writer(const std::string& path, std::uint64_t total, unsigned seed) {
  interval_timer timer;
  npipe::fifo_end end = npipe::open_fifo(path, npipe::direction::write);  // blocks, interrupted
  std::vector<std::uint8_t> buf(256 * 1024);
  std::mt19937 g(seed);
  std::uint64_t done = 0;
  while (done < total) {
    std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(total - done, 1 + g() % buf.size()));
    npipe::protocol::fill_pattern(buf.data(), n, seed, done);
    if (g() & 1) {
      end.write_all(buf.data(), n);
      done += n;
    } else {
      done += end.write(buf.data(), n, deadline::after(10s));
    }
  }
  return 0;
}

// Receives and echoes messages back on a channel, in a child.
int channel_echo_client(const std::string& path, bool key, int messages) {
  interval_timer timer;
  npipe::auth_options o;
  if (key) o.authkey = "signals-key";
  npipe::connection c = npipe::connection::connect(path, o);
  for (int i = 0; i < messages; ++i) {
    auto m = (i & 1) ? c.recv_bytes(SIZE_MAX, deadline::after(10s)) : c.recv_bytes();
    if (!m) return 10;
    c.send_bytes(m->data(), m->size());
  }
  return 0;
}

}  // namespace

void profile_signals(const config& c, std::mt19937_64& rng, row& r) {
  const int rounds = c.quick ? 2 : 8;
  const int fds_before = count_fds();
  g_alarms = 0;
  for (int round = 0; round < rounds; ++round) {
    // 1. FIFO: blocking open on both sides, then a large transfer.
    {
      watchdog wd(120s, "signals: FIFO transfer");
      temp_dir dir;
      const std::string path = dir.file("sig.fifo");
      const std::uint64_t total = c.quick ? (8u << 20) : (64u << 20) + rng() % 4096;
      const unsigned seed = static_cast<unsigned>(rng() % 256);
      npipe::fifo_owner owner = npipe::fifo_owner::create(path, npipe::direction::read);
      child writer([&] { return fifo_writer(path, total, seed); });
      interval_timer timer;
      ++r.faults;
      try {
        npipe::fifo_end in = owner.open();  // blocks until the writer comes, interrupted
        npipe::protocol::sha256 h;
        std::vector<std::uint8_t> buf(1 << 16);
        std::uint64_t got_total = 0;
        for (int i = 0;; ++i) {
          std::size_t got = (i & 1) ? in.read(buf.data(), buf.size())
                                    : in.read(buf.data(), buf.size(), deadline::after(10s));
          if (got == 0) break;
          h.update(buf.data(), got);
          got_total += got;
        }
        if (got_total != total || h.hex_digest() != pattern_digest(total, seed)) {
          r.bytes_lost += static_cast<long>(total > got_total ? total - got_total : 1);
          r.fail("FIFO transfer under SIGALRM: " + std::to_string(got_total) + " of " +
                 std::to_string(total) + " bytes, or the digest differs");
        } else {
          ++r.survived;
        }
      } catch (const npipe::error& e) {
        r.fail(std::string("FIFO transfer under SIGALRM: spurious error: ") + e.what());
      }
      int st = writer.wait();
      if (st != 0) r.fail("FIFO writer under SIGALRM exited " + std::to_string(st));
      ++r.trials;
    }
    // 2. Channel with and without key: blocking accept + handshake, messages both ways.
    for (bool key : {false, true}) {
      watchdog wd(120s, "signals: channel transfer");
      temp_dir dir;
      const std::string path = dir.file("sig.sock");
      npipe::listener_options lo;
      if (key) lo.authkey = "signals-key";
      npipe::listener l = npipe::listener::listen(path, lo);
      const int messages = c.quick ? 16 : 64;
      child client([&] { return channel_echo_client(path, key, messages); });
      interval_timer timer;
      ++r.faults;
      try {
        npipe::connection conn = l.accept();  // blocking, interrupted
        std::uint64_t offset = 0;
        bool same = true;
        for (int i = 0; i < messages && same; ++i) {
          std::size_t n = rng() % ((i % 4 == 3) ? (4u << 20) : 4096);
          npipe::bytes m(n);  // the type recv_bytes returns, filled below
          const unsigned seed = static_cast<unsigned>(i);
          npipe::protocol::fill_pattern(m.data(), n, seed, offset);
          conn.send_bytes(m.data(), n);
          auto back = (i & 1) ? conn.recv_bytes() : conn.recv_bytes(SIZE_MAX, deadline::after(10s));
          if (!back || *back != m) {
            same = false;
            r.bytes_lost += static_cast<long>(n);
            r.fail("channel echo under SIGALRM: message " + std::to_string(i) + " differs");
          }
          offset += n;
        }
        if (same) ++r.survived;
      } catch (const npipe::error& e) {
        r.fail(std::string("channel under SIGALRM: spurious error: ") + e.what());
      }
      int st = client.wait();
      if (st != 0) r.fail("channel client under SIGALRM exited " + std::to_string(st));
      ++r.trials;
    }
  }
  // 3. A timed connect against a full backlog, under the timer: it must end at its deadline.
  {
    watchdog wd(60s, "signals: connect to a full backlog");
    temp_dir dir;
    const std::string path = dir.file("full.sock");
    npipe::listener_options lo;
    lo.backlog = 1;
    npipe::listener l = npipe::listener::listen(path, lo);  // never accepts
    std::vector<npipe::connection> fillers;
    for (int i = 0; i < 64; ++i) {
      try {
        fillers.push_back(npipe::connection::connect(path, {}, deadline::immediate()));
      } catch (const npipe::error&) {
        break;  // would_block: the backlog is full
      }
    }
    interval_timer timer;
    ++r.faults;
    constexpr long kDeadlineMs = 200;
    auto start = clock_type::now();
    try {
      npipe::connection extra = npipe::connection::connect(
          path, {}, deadline::after(std::chrono::milliseconds(kDeadlineMs)));
      r.note("connect to a full backlog succeeded (the kernel had room after all)");
      ++r.survived;
    } catch (const npipe::error& e) {
      long took = elapsed_ms(start);
      if (e.value() != errc::timeout) {
        r.fail(std::string("timed connect to a full backlog under SIGALRM: ") + e.what());
      } else if (took > kDeadlineMs + 1000) {
        ++r.hangs;
        r.fail("timed connect to a full backlog under SIGALRM took " + std::to_string(took) +
               " ms for a " + std::to_string(kDeadlineMs) + " ms deadline");
      } else {
        ++r.survived;
        r.note("timed connect (200 ms) to a full backlog under SIGALRM: timeout after " +
               std::to_string(took) + " ms");
      }
    }
    ++r.trials;
  }
  r.note("SIGALRM delivered in this process: " + std::to_string(static_cast<long>(g_alarms)));
  const int fds_after = count_fds();
  if (fds_after != fds_before) {
    r.fds_leaked += std::abs(fds_after - fds_before);
    r.fail("descriptors before " + std::to_string(fds_before) + ", after " +
           std::to_string(fds_after));
  }
}

}  // namespace stress
