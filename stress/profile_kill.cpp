// stress/profile_kill.cpp: kill -9 either side at random points (FIFO-EOF-*, FIFO-PIPE-*,
// FIFO-LIFE-1, CHAN-LIFE-1, -2, CHAN-EOF-2, -3, CHAN-LISTEN-3, ERR-5).
//
// Each trial forks a victim that plays one side (owner or peer; listener or client; sender or
// receiver) and dies by SIGKILL: either at a chosen point of its own work (before open, after n
// bytes, inside a frame after its header) or from outside after a random delay (during open, the
// handshake or a transfer). The parent is the survivor. It must get its data intact up to what
// the victim's calls had returned for (shared counter), then EOF / broken_pipe / protocol_error
// (or timeout / not_found / auth_failed where the victim died before meeting it) within its
// deadline, never a signal or a crash; hold exactly the descriptors it held before; and leave the
// names it owns removed. A stale name the victim left (allowed: FIFO-LIFE-1, CHAN-LIFE-1) must be
// recoverable: adopt for a FIFO, listen's takeover for a socket file.
#include <sys/mman.h>
#include <sys/socket.h>

#include <cstring>
#include <optional>

#include "npipe/npipe.hpp"
#include "protocol/codec.hpp"
#include "stress.hpp"

namespace stress {
namespace {

using npipe::deadline;
using npipe::errc;

// Progress the victim reports through shared memory, so the survivor knows what must arrive.
struct shared_progress {
  std::atomic<long long> bytes_written{0};  // bytes the victim's write/send calls returned for
  std::atomic<long long> messages_sent{0};  // whole messages sent by the victim
};

shared_progress* map_shared() {
  void* p = ::mmap(nullptr, sizeof(shared_progress), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) std::abort();
  return new (p) shared_progress;
}

[[noreturn]] void die() {
  ::raise(SIGKILL);
  ::_exit(97);  // unreachable
}

constexpr long kSlackMs = 1000;  // how far past its deadline a call may return before it is a hang

// Checks a survivor call's duration against its deadline.
void check_duration(row& r, clock_type::time_point start, long deadline_ms, const char* what) {
  long took = elapsed_ms(start);
  if (took > deadline_ms + kSlackMs) {
    ++r.hangs;
    r.fail(std::string(what) + " took " + std::to_string(took) + " ms, deadline " +
           std::to_string(deadline_ms) + " ms");
  }
}

// Victim exit: SIGKILL (ours) or a normal exit are fine; any other signal (SIGPIPE, SIGSEGV,
// SIGABRT) is a failure of the victim's side of the library.
void check_victim(row& r, child& ch, const char* what) {
  ch.kill();
  int st = ch.wait();
  if (st > 128 && st != 128 + SIGKILL) {
    r.fail(std::string(what) + ": the victim died of signal " + std::to_string(st - 128));
  }
}

// ---------------------------------------------------------------------------------------------
// FIFO

struct fifo_plan {
  bool victim_owner;
  bool victim_writes;
  bool self_kill;
  long long kill_at;  // self kill: byte offset (-1: before open)
  std::chrono::microseconds delay;
  std::size_t total;
  unsigned seed;
};

int fifo_victim(const fifo_plan& p, const std::string& path, notify_pipe& ready,
                shared_progress* progress) {
  const auto dir = p.victim_writes ? npipe::direction::write : npipe::direction::read;
  npipe::fifo_owner owner;
  if (p.victim_owner) {
    owner = npipe::fifo_owner::create(path, dir);
    ready.signal();
  }
  if (p.self_kill && p.kill_at < 0) die();
  npipe::fifo_end end = p.victim_owner ? owner.open() : npipe::open_fifo(path, dir);
  std::vector<std::uint8_t> buf(64 * 1024);
  std::mt19937 chunk_rng(p.seed);
  std::size_t done = 0;
  while (done < p.total) {
    std::size_t n = std::min<std::size_t>(p.total - done, 1 + chunk_rng() % buf.size());
    if (p.self_kill && p.kill_at >= 0 && static_cast<long long>(done + n) > p.kill_at) {
      n = static_cast<std::size_t>(p.kill_at) - done;
      if (n == 0) die();
    }
    if (p.victim_writes) {
      npipe::protocol::fill_pattern(buf.data(), n, p.seed, done);
      std::size_t w = end.write(buf.data(), n);
      done += w;
      progress->bytes_written.store(static_cast<long long>(done));
    } else {
      std::size_t got = end.read(buf.data(), n);
      if (got == 0) break;
      done += got;
    }
    if (p.self_kill && static_cast<long long>(done) == p.kill_at) die();
  }
  die();  // after the whole transfer: still a kill, never a clean close
}

void fifo_trial(const config& c, std::mt19937_64& rng, row& r, shared_progress* progress) {
  temp_dir dir;
  const std::string path = dir.file("kill.fifo");
  fifo_plan p{};
  p.victim_owner = rng() & 1;
  p.victim_writes = rng() & 1;
  p.self_kill = rng() & 1;
  p.total = c.quick ? (64 + rng() % (256 * 1024)) : (64 + rng() % (4u << 20));
  // Self kill: 1 in 8 before open, else at a random byte offset.
  p.kill_at = (rng() % 8 == 0) ? -1 : static_cast<long long>(rng() % (p.total + 1));
  p.delay = std::chrono::microseconds(rng() % (p.victim_writes ? 20000 : 4000));
  p.seed = static_cast<unsigned>(rng() % 256);
  progress->bytes_written = 0;
  progress->messages_sent = 0;

  const int fds_before = count_fds();
  const auto sdir = p.victim_writes ? npipe::direction::read : npipe::direction::write;
  const char* what =
      p.victim_writes ? "FIFO reader (writer killed)" : "FIFO writer (reader killed)";
  bool ok = true;
  long long received = 0;
  {
    watchdog wd(30s, std::string("kill-fifo trial: ") + what);
    notify_pipe ready;
    npipe::fifo_owner owner;
    if (!p.victim_owner) owner = npipe::fifo_owner::create(path, sdir);
    child victim([&] { return fifo_victim(p, path, ready, progress); });
    ready.parent_side();
    std::optional<delayed_kill> killer;
    if (!p.self_kill) killer.emplace(victim.pid(), p.delay);
    ++r.faults;

    npipe::fifo_end end;
    std::string open_outcome = "ok";
    try {
      constexpr long kOpenMs = 300;
      auto start = clock_type::now();
      if (p.victim_owner) {
        int signalled = ready.wait(5000);
        if (signalled <= 0) {
          // Died before creating or before saying so: not_found, or timeout if mkfifo ran.
          try {
            end = npipe::open_fifo(path, sdir, deadline::after(std::chrono::milliseconds(kOpenMs)));
            // The victim created and opened it after all and died: fine, I/O decides below.
          } catch (const npipe::error& e) {
            open_outcome = e.what();
            if (e.value() != errc::not_found && e.value() != errc::timeout) {
              ok = false;
              r.fail(std::string("open after the owner died: ") + e.what());
            }
          }
        } else {
          start = clock_type::now();
          end = npipe::open_fifo(path, sdir, deadline::after(std::chrono::milliseconds(kOpenMs)));
        }
      } else {
        end = owner.open(deadline::after(std::chrono::milliseconds(kOpenMs)));
      }
      check_duration(r, start, kOpenMs, "FIFO open");
    } catch (const npipe::error& e) {
      open_outcome = e.what();
      if (e.value() != errc::timeout && e.value() != errc::not_found) {
        ok = false;
        r.fail(std::string(what) + ": open gave " + e.what());
      }
    }
    if (end.is_open()) {
      std::vector<std::uint8_t> buf(64 * 1024);
      constexpr long kIoMs = 3000;
      try {
        if (p.victim_writes) {
          for (;;) {
            auto start = clock_type::now();
            std::size_t got =
                end.read(buf.data(), buf.size(), deadline::after(std::chrono::milliseconds(kIoMs)));
            check_duration(r, start, kIoMs, "FIFO read");
            if (got == 0) break;  // EOF: the only right ending
            long long bad =
                pattern_mismatch(buf.data(), got, static_cast<std::uint64_t>(received), p.seed);
            if (bad >= 0) {
              ok = false;
              r.fail(std::string("FIFO data corrupted at offset ") + std::to_string(bad));
              break;
            }
            received += static_cast<long long>(got);
          }
        } else {
          std::size_t done = 0;
          while (done < p.total) {
            std::size_t n = std::min<std::size_t>(p.total - done, buf.size());
            npipe::protocol::fill_pattern(buf.data(), n, p.seed, done);
            auto start = clock_type::now();
            done += end.write(buf.data(), n, deadline::after(std::chrono::milliseconds(kIoMs)));
            check_duration(r, start, kIoMs, "FIFO write");
          }
        }
      } catch (const npipe::error& e) {
        if (p.victim_writes || e.value() != errc::broken_pipe) {
          ok = false;
          r.fail(std::string(what) + ": " + e.what());
        }
      }
      end.close();
    }
    killer.reset();
    check_victim(r, victim, what);
    if (p.victim_writes && received < progress->bytes_written.load()) {
      ok = false;
      r.bytes_lost += progress->bytes_written.load() - received;
      r.fail("FIFO: the writer's calls returned for " +
             std::to_string(progress->bytes_written.load()) + " bytes, " +
             std::to_string(received) + " arrived (victim " + (p.victim_owner ? "owner" : "peer") +
             ", " + (p.self_kill ? "self" : "external") + " kill; survivor open: " + open_outcome +
             ")");
    }
    if (!p.victim_owner) {
      owner.remove();
      if (path_exists(path)) {
        ok = false;
        r.fail("the surviving owner's FIFO is still there after remove()");
      }
    } else if (path_exists(path)) {
      // Stale (FIFO-LIFE-1): recovered by adopting it, then removed.
      try {
        npipe::fifo_options o;
        o.adopt_existing = true;
        npipe::fifo_owner adopter = npipe::fifo_owner::create(path, sdir, o);
      } catch (const npipe::error& e) {
        ok = false;
        r.fail(std::string("adopting the stale FIFO failed: ") + e.what());
      }
      if (path_exists(path)) {
        ok = false;
        r.fail("the adopted stale FIFO was not removed");
      }
    }
  }
  const int fds_after = count_fds();
  if (fds_after != fds_before) {
    ok = false;
    r.fds_leaked += std::abs(fds_after - fds_before);
    r.fail("descriptors before " + std::to_string(fds_before) + ", after " +
           std::to_string(fds_after));
  }
  ++r.trials;
  if (ok) ++r.survived;
}

// ---------------------------------------------------------------------------------------------
// Channel

struct channel_plan {
  bool victim_listener;
  bool victim_sends;
  bool use_key;
  bool self_kill;
  int kill_after_messages;  // self kill: after this many whole messages (-1: before connect)
  bool partial_frame;       // self kill: write a header and part of a payload first
  std::chrono::microseconds delay;
  int messages;
  std::size_t max_message;
  unsigned seed;
};

std::size_t message_size(unsigned seed, int index, std::size_t max_message) {
  std::mt19937 g(seed * 7919u + static_cast<unsigned>(index));
  std::size_t s = g() % (max_message + 1);
  return g() % 8 == 0 ? 0 : s;  // empty messages are messages (CHAN-FRAME-3)
}

int channel_victim(const channel_plan& p, const std::string& path, notify_pipe& ready,
                   shared_progress* progress) {
  npipe::listener_options lo;
  npipe::auth_options co;
  if (p.use_key) lo.authkey = co.authkey = "stress-key";
  npipe::listener l;
  npipe::connection conn;
  if (p.victim_listener) {
    l = npipe::listener::listen(path, lo);
    ready.signal();
    if (p.self_kill && p.kill_after_messages < 0) die();
    conn = l.accept();
  } else {
    if (p.self_kill && p.kill_after_messages < 0) die();
    conn = npipe::connection::connect(path, co);
  }
  std::vector<std::uint8_t> buf;
  std::uint64_t offset = 0;
  for (int i = 0; i < p.messages; ++i) {
    if (p.self_kill && i == p.kill_after_messages) {
      if (p.partial_frame && p.victim_sends) {
        // A header promising more than follows, then death: the survivor is inside a frame.
        std::uint8_t raw[4 + 7] = {0, 0, 1, 0, 'p', 'a', 'r', 't', 'i', 'a', 'l'};
        ssize_t w = ::send(conn.native_handle(), raw, sizeof raw, MSG_NOSIGNAL);
        (void)w;
      }
      die();
    }
    if (p.victim_sends) {
      std::size_t n = message_size(p.seed, i, p.max_message);
      buf.resize(n);
      npipe::protocol::fill_pattern(buf.data(), n, p.seed, offset);
      conn.send_bytes(buf.data(), n);
      offset += n;
      progress->bytes_written.store(static_cast<long long>(offset));
      progress->messages_sent.store(i + 1);
    } else {
      auto m = conn.recv_bytes();
      if (!m) break;
    }
  }
  die();
}

void channel_trial(const config& c, std::mt19937_64& rng, row& r, shared_progress* progress) {
  temp_dir dir;
  const std::string path = dir.file("kill.sock");
  channel_plan p{};
  p.victim_listener = rng() & 1;
  p.victim_sends = rng() & 1;
  p.use_key = rng() & 1;
  p.self_kill = rng() & 1;
  p.messages = 1 + static_cast<int>(rng() % (c.quick ? 8 : 24));
  p.kill_after_messages = (rng() % 8 == 0) ? -1 : static_cast<int>(rng() % (p.messages + 1));
  p.partial_frame = rng() & 1;
  p.delay = std::chrono::microseconds(rng() % (p.victim_sends ? 15000 : 5000));
  p.max_message = c.quick ? 64 * 1024 : 512 * 1024;
  p.seed = static_cast<unsigned>(rng() % 256);
  progress->bytes_written = 0;
  progress->messages_sent = 0;

  npipe::listener_options lo;
  npipe::auth_options co;
  lo.handshake_timeout = co.handshake_timeout = c.handshake_timeout;
  if (p.use_key) lo.authkey = co.authkey = "stress-key";

  const char* what =
      p.victim_sends ? "channel receiver (sender killed)" : "channel sender (receiver killed)";
  const int fds_before = count_fds();
  bool ok = true;
  long long received_bytes = 0;
  {
    watchdog wd(30s, std::string("kill-channel trial: ") + what);
    notify_pipe ready;
    npipe::listener l;
    if (!p.victim_listener) l = npipe::listener::listen(path, lo);
    child victim([&] { return channel_victim(p, path, ready, progress); });
    ready.parent_side();
    std::optional<delayed_kill> killer;
    if (!p.self_kill) killer.emplace(victim.pid(), p.delay);
    ++r.faults;

    npipe::connection conn;
    constexpr long kMeetMs = 1500;
    try {
      if (p.victim_listener) {
        int signalled = ready.wait(5000);
        auto start = clock_type::now();
        try {
          conn = npipe::connection::connect(path, co,
                                            deadline::after(std::chrono::milliseconds(kMeetMs)));
        } catch (const npipe::error& e) {
          // Died before listening (no file / stale file): not_found. Died during the
          // handshake: auth_failed (EOF where a handshake message was due).
          bool allowed =
              e.value() == errc::not_found || (p.use_key && e.value() == errc::auth_failed);
          if (!allowed) {
            ok = false;
            r.fail(std::string(what) + ": connect gave " + e.what() +
                   (signalled > 0 ? "" : " (listener died before it was ready)"));
          }
        }
        check_duration(r, start, kMeetMs, "connect");
      } else {
        auto start = clock_type::now();
        try {
          conn = l.accept(deadline::after(std::chrono::milliseconds(kMeetMs)));
        } catch (const npipe::error& e) {
          bool allowed = e.value() == errc::timeout ||  // died before connecting
                         (p.use_key && e.value() == errc::auth_failed);
          if (!allowed) {
            ok = false;
            r.fail(std::string(what) + ": accept gave " + e.what());
          }
        }
        check_duration(r, start, kMeetMs, "accept");
      }
    } catch (const npipe::error& e) {
      ok = false;
      r.fail(std::string(what) + ": " + e.what());
    }
    if (conn.is_open()) {
      constexpr long kIoMs = 3000;
      std::uint64_t offset = 0;
      try {
        if (p.victim_sends) {
          for (int i = 0;; ++i) {
            auto start = clock_type::now();
            auto m = conn.recv_bytes(SIZE_MAX, deadline::after(std::chrono::milliseconds(kIoMs)));
            check_duration(r, start, kIoMs, "recv_bytes");
            if (!m) break;  // EOF on a boundary
            std::size_t expected = message_size(p.seed, i, p.max_message);
            if (i >= p.messages || m->size() != expected ||
                pattern_mismatch(m->data(), m->size(), offset, p.seed) >= 0) {
              ok = false;
              r.fail("channel message " + std::to_string(i) + " corrupted or unexpected");
              break;
            }
            offset += m->size();
            received_bytes = static_cast<long long>(offset);
          }
        } else {
          std::vector<std::uint8_t> buf;
          for (int i = 0; i < 1000; ++i) {
            std::size_t n = message_size(p.seed, i, p.max_message);
            buf.resize(n);
            npipe::protocol::fill_pattern(buf.data(), n, p.seed, offset);
            conn.send_bytes(buf.data(), n);  // blocks at most until the dead peer's socket closes
            offset += n;
          }
          ok = false;
          r.fail("1000 messages sent to a killed receiver without broken_pipe");
        }
      } catch (const npipe::error& e) {
        bool allowed = p.victim_sends ? e.value() == errc::protocol_error  // inside a frame
                                      : e.value() == errc::broken_pipe;
        if (!allowed) {
          ok = false;
          r.fail(std::string(what) + ": " + e.what());
        }
      }
      conn.close();
    }
    killer.reset();
    check_victim(r, victim, what);
    if (p.victim_sends && received_bytes < progress->bytes_written.load()) {
      // Bytes whose send() returned are in the socket and must all be read before EOF.
      ok = false;
      r.bytes_lost += progress->bytes_written.load() - received_bytes;
      r.fail("channel: " + std::to_string(progress->bytes_written.load()) + " bytes sent, " +
             std::to_string(received_bytes) + " received");
    }
    if (!p.victim_listener) {
      l.close();
      if (path_exists(path)) {
        ok = false;
        r.fail("the surviving listener's socket file is still there after close()");
      }
    } else if (path_exists(path)) {
      // Stale (CHAN-LIFE-1): the next listener takes it over (CHAN-LISTEN-3).
      try {
        npipe::listener again = npipe::listener::listen(path, lo);
      } catch (const npipe::error& e) {
        ok = false;
        r.fail(std::string("taking over the stale socket file failed: ") + e.what());
      }
      if (path_exists(path)) {
        ok = false;
        r.fail("the taken-over socket file was not removed by close()");
      }
    }
  }
  const int fds_after = count_fds();
  if (fds_after != fds_before) {
    ok = false;
    r.fds_leaked += std::abs(fds_after - fds_before);
    r.fail("descriptors before " + std::to_string(fds_before) + ", after " +
           std::to_string(fds_after));
  }
  ++r.trials;
  if (ok) ++r.survived;
}

}  // namespace

void profile_kill_fifo(const config& c, std::mt19937_64& rng, row& r) {
  shared_progress* progress = map_shared();
  for (long t = 0; t < c.trials; ++t)
    fifo_trial(c, rng, r, progress);
  ::munmap(progress, sizeof *progress);
}

void profile_kill_channel(const config& c, std::mt19937_64& rng, row& r) {
  shared_progress* progress = map_shared();
  for (long t = 0; t < c.trials; ++t)
    channel_trial(c, rng, r, progress);
  ::munmap(progress, sizeof *progress);
}

}  // namespace stress
