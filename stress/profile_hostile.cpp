// stress/profile_hostile.cpp: hostile peers and hostile names (CHAN-AUTH-5..8, -11, CHAN-RECV-1,
// CHAN-FRAME-4, CHAN-EOF-2, CHAN-LISTEN-1, -2, FIFO-CREATE-2..4, FIFO-OPEN-8, FIFO-SEC-4..6).
#include <pwd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <fstream>
#include <optional>

#include "common/crypto.hpp"
#include "common/framing.hpp"
#include "npipe/npipe.hpp"
#include "stress.hpp"

namespace stress {
namespace {

using npipe::deadline;
using npipe::errc;
using byte_vector = std::vector<std::uint8_t>;

// A raw AF_UNIX client: the hostile peer, speaking bytes rather than the library.
class raw_client {
 public:
  explicit raw_client(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~raw_client() {
    if (fd_ >= 0) ::close(fd_);
  }
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;
  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  void send_raw(const void* p, std::size_t n) {
    ssize_t w = ::send(fd_, p, n, MSG_NOSIGNAL);
    (void)w;
  }
  void send_frame(const byte_vector& m) {
    auto h = npipe::framing::encode_header(m.size());
    send_raw(h.bytes.data(), h.size);
    send_raw(m.data(), m.size());
  }
  // One frame of at most 4096 bytes; nullopt on EOF, error or timeout.
  std::optional<byte_vector> recv_frame() {
    std::uint8_t h[4];
    if (!recv_exact(h, 4)) return std::nullopt;
    std::uint32_t n = (std::uint32_t{h[0]} << 24) | (h[1] << 16) | (h[2] << 8) | h[3];
    if (n > 4096) return std::nullopt;
    byte_vector m(n);
    if (!recv_exact(m.data(), n)) return std::nullopt;
    return m;
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  bool recv_exact(void* p, std::size_t n) {
    auto* b = static_cast<std::uint8_t*>(p);
    while (n > 0) {
      ssize_t got = ::recv(fd_, b, n, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return false;
      b += got;
      n -= static_cast<std::size_t>(got);
    }
    return true;
  }
  int fd_ = -1;
};

// Runs accept() on a thread and hands back the outcome.
class async_accept {
 public:
  async_accept(npipe::listener& l, deadline d)
      : thread_([this, &l, d] {
          try {
            conn = l.accept(d);
          } catch (const npipe::error& e) {
            failure = e.value();
            message = e.what();
          }
        }) {}
  ~async_accept() {
    if (thread_.joinable()) thread_.join();
  }
  void join() { thread_.join(); }
  npipe::connection conn;
  std::optional<errc> failure;
  std::string message;

 private:
  std::thread thread_;
};

byte_vector bytes_of(const std::string& s) {
  return byte_vector(s.begin(), s.end());
}

// The right answer to a challenge frame, by the spec (CHAN-AUTH-3), for a raw client.
byte_vector right_answer(const std::string& key, const byte_vector& challenge) {
  byte_vector m(challenge.begin() + 11, challenge.end());  // after "#CHALLENGE#"
  auto mac = npipe::crypto::hmac("sha256", key, m.data(), m.size());
  byte_vector a = bytes_of("{sha256}");
  a.insert(a.end(), mac->begin(), mac->end());
  return a;
}

// One raw handshake attempt: the listener challenges, the raw client answers `make(challenge)`.
// Returns the listener's outcome (nullopt: accepted) and what the client read back.
std::optional<errc> raw_attempt(npipe::listener& l, const std::string& path,
                                const std::function<void(raw_client&, const byte_vector&)>& answer,
                                std::string* verdict = nullptr) {
  async_accept acc(l, deadline::after(10s));
  raw_client rc(path);
  auto challenge = rc.recv_frame();
  if (challenge && challenge->size() > 11) answer(rc, *challenge);
  auto v = rc.recv_frame();
  if (verdict) *verdict = v ? std::string(v->begin(), v->end()) : std::string("<none>");
  rc.close();
  acc.join();
  return acc.failure;
}

void hostile_handshakes(const config& c, std::mt19937_64& rng, row& r) {
  temp_dir dir;
  const std::string path = dir.file("auth.sock");
  const std::string key = "the-real-key";
  npipe::listener_options lo;
  lo.authkey = key;
  lo.handshake_timeout = c.handshake_timeout;
  npipe::listener l = npipe::listener::listen(path, lo);
  const int n = c.quick ? 20 : 200;
  std::string verdict;
  auto expect_refused = [&](const std::optional<errc>& got, const std::string& what) {
    ++r.hostile;
    ++r.trials;
    if (got == errc::auth_failed && verdict != "#FAILURE#") {
      r.fail(what + ": refused without #FAILURE# (got " + verdict + ")");
    } else if (got == errc::auth_failed) {
      ++r.survived;
    } else {
      r.fail(what + ": listener gave " +
             (got ? npipe::errc_name(*got) : std::string("success (ACCEPTED!)")));
    }
  };
  // Control: the right answer, then the client's own challenge checked, is a whole handshake
  // the listener accepts; so the refusals below mean something.
  {
    async_accept acc(l, deadline::after(10s));
    raw_client rc(path);
    bool client_ok = false;
    if (auto ch = rc.recv_frame(); ch && ch->size() > 11) {
      rc.send_frame(right_answer(key, *ch));
      auto v = rc.recv_frame();
      byte_vector mine = bytes_of("#CHALLENGE#{sha256}");
      mine.resize(mine.size() + 40, 0x42);
      rc.send_frame(mine);
      auto answer = rc.recv_frame();
      client_ok = v && *v == bytes_of("#WELCOME#") && answer && *answer == right_answer(key, mine);
      rc.send_frame(bytes_of("#WELCOME#"));
    }
    acc.join();
    ++r.trials;
    if (acc.failure || !client_ok) {
      r.fail("control: a right raw handshake was not accepted: " + acc.message);
    } else {
      ++r.survived;
    }
  }
  for (int i = 0; i < n; ++i) {
    // Truncated digests: every length from the prefix alone to one byte short.
    auto cut = 1 + rng() % 40;
    expect_refused(raw_attempt(
                       l, path,
                       [&](raw_client& rc, const byte_vector& ch) {
                         byte_vector a = right_answer(key, ch);
                         a.resize(a.size() - std::min<std::size_t>(cut, a.size()));
                         rc.send_frame(a);
                       },
                       &verdict),
                   "truncated digest (" + std::to_string(cut) + " bytes cut)");
    // Random wrong keys through the library: both sides must fail auth_failed.
    std::string wrong(1 + rng() % 40, '\0');
    for (auto& ch : wrong)
      ch = static_cast<char>(rng());
    if (wrong == key) wrong += "x";
    {
      async_accept acc(l, deadline::after(10s));
      npipe::auth_options co;
      co.authkey = wrong;
      std::optional<errc> client_err;
      try {
        npipe::connection::connect(path, co, deadline::after(10s));
      } catch (const npipe::error& e) {
        client_err = e.value();
        if (std::string(e.what()).find(wrong) != std::string::npos && wrong.size() > 3) {
          r.fail("a key appears in an error message");
        }
      }
      acc.join();
      verdict = "#FAILURE#";  // the library client consumed it; its own error is checked below
      expect_refused(acc.failure, "random wrong key (listener side)");
      if (client_err != errc::auth_failed) r.fail("random wrong key: the client was not refused");
    }
    // Malformed answers: random bytes of random length, up to the limit.
    byte_vector junk(rng() % 257);
    for (auto& b : junk)
      b = static_cast<std::uint8_t>(rng());
    expect_refused(
        raw_attempt(
            l, path, [&](raw_client& rc, const byte_vector&) { rc.send_frame(junk); }, &verdict),
        "malformed answer of " + std::to_string(junk.size()) + " bytes");
    // Oversized answers: 257 bytes up to 1 MiB (only the header need be read).
    std::size_t big = 257 + rng() % (1 << 20);
    expect_refused(raw_attempt(
                       l, path,
                       [&](raw_client& rc, const byte_vector&) {
                         auto h = npipe::framing::encode_header(big);
                         rc.send_raw(h.bytes.data(), h.size);
                         byte_vector part(std::min<std::size_t>(big, 4096), 'A');
                         rc.send_raw(part.data(), part.size());
                       },
                       &verdict),
                   "oversized answer (" + std::to_string(big) + " bytes claimed)");
    // A lying length up to 2^63 on the answer.
    std::uint64_t lie = (std::uint64_t{1} << (31 + rng() % 33)) - 1;
    expect_refused(raw_attempt(
                       l, path,
                       [&](raw_client& rc, const byte_vector&) {
                         auto h = npipe::framing::encode_header(lie);
                         rc.send_raw(h.bytes.data(), h.size);
                       },
                       &verdict),
                   "answer claiming " + std::to_string(lie) + " bytes");
  }
}

// Lying frame lengths on an established connection, in a child with a low RLIMIT_AS: a receiver
// that allocated the claimed size would die of bad_alloc instead of answering protocol_error.
int lying_lengths_child(const std::string& path, notify_pipe& ready) {
  npipe::listener l = npipe::listener::listen(path);
  // Address space: what we use now plus 256 MiB; RSS checked against its own start.
  rlimit rl{};
  std::ifstream status("/proc/self/status");
  long vm_kib = 0;
  for (std::string k; status >> k;) {
    if (k == "VmSize:") {
      status >> vm_kib;
      break;
    }
  }
  rl.rlim_cur = rl.rlim_max = static_cast<rlim_t>(vm_kib + 256 * 1024) * 1024;
  bool as_limited = ::setrlimit(RLIMIT_AS, &rl) == 0;
  const long hwm_before = vm_hwm_kib();
  ready.signal();
  int failures = 0;
  for (int i = 0; i < 7; ++i) {
    npipe::connection c = l.accept(deadline::after(10s));
    // Cases 0..4: lie then EOF -> protocol_error; 5: maxlength 1 MiB -> message_too_long;
    // 6: lie and stall -> timeout.
    try {
      if (i == 5) {
        c.recv_bytes(1 << 20, deadline::after(5s));
        failures |= 1;
      } else if (i == 6) {
        c.recv_bytes(SIZE_MAX, deadline::after(std::chrono::milliseconds(300)));
        failures |= 2;
      } else {
        c.recv_bytes(SIZE_MAX, deadline::after(5s));
        failures |= 4;
      }
    } catch (const npipe::error& e) {
      errc want = i == 5 ? errc::message_too_long : i == 6 ? errc::timeout : errc::protocol_error;
      if (e.value() != want) {
        std::fprintf(stderr, "[hostile] lying length case %d: %s\n", i, e.what());
        failures |= 8;
      }
    } catch (const std::bad_alloc&) {
      std::fprintf(stderr, "[hostile] lying length case %d: bad_alloc\n", i);
      failures |= 16;
    }
  }
  const long grown = vm_hwm_kib() - hwm_before;
  std::fprintf(stderr, "[hostile] lying lengths: RLIMIT_AS %s, RSS high-water grew %ld KiB\n",
               as_limited ? "set" : "NOT set", grown);
  if (grown > 32 * 1024) failures |= 32;
  return failures;
}

void lying_lengths(const config&, std::mt19937_64&, row& r) {
  temp_dir dir;
  const std::string path = dir.file("lie.sock");
  notify_pipe ready;
  child receiver([&] { return lying_lengths_child(path, ready); });
  ready.parent_side();
  if (ready.wait(10000) <= 0) {
    r.fail("lying-lengths receiver did not start");
    return;
  }
  const std::uint64_t lies[] = {0x7fffffffu, std::uint64_t{1} << 32, std::uint64_t{1} << 40,
                                std::uint64_t{1} << 63, ~std::uint64_t{0}};
  std::vector<std::unique_ptr<raw_client>> keep;
  for (int i = 0; i < 7; ++i) {
    auto rc = std::make_unique<raw_client>(path);
    std::uint64_t lie =
        i < 5 ? lies[i] : (i == 5 ? std::uint64_t{1} << 62 : std::uint64_t{1} << 63);
    auto h = npipe::framing::encode_header(lie);
    if (i == 0) h = npipe::framing::encode_header(0x7fffffff);
    rc->send_raw(h.bytes.data(), h.size);
    byte_vector some(100000, 'L');
    if (i != 6) rc->send_raw(some.data(), some.size());
    ++r.hostile;
    if (i == 6) {
      keep.push_back(std::move(rc));  // stays open and silent: the receiver must time out
    } else {
      rc->close();
    }
  }
  int st = receiver.wait();
  r.trials += 7;
  if (st == 0) {
    r.survived += 7;
    r.note(
        "lying lengths 2^31-1 .. 2^64-1 under RLIMIT_AS: protocol_error / message_too_long / "
        "timeout, no allocation near the claim");
  } else {
    r.fail("lying lengths: receiver failures (bits " + std::to_string(st) + ")");
  }
}

// Serves one client: its handshake if one is owed, then one echo.
void serve_one(npipe::connection conn) {
  try {
    conn.authenticate(deadline::after(30s));
    auto m = conn.recv_bytes(64, deadline::after(std::chrono::milliseconds(50)));
    if (m) conn.send_bytes(m->data(), m->size());
  } catch (const npipe::error&) {
  }
}

// A client that connects and never speaks, beside honest clients (CHAN-AUTH-8, CHAN-AUTH-13):
// without a key; with a key and accept(), which runs each handshake inline; with a key and
// accept_unauthenticated() + authenticate() on a thread per client.
void silent_client(const config& c, row& r) {
  enum class mode { no_key, accept_inline, handshake_per_thread };
  for (mode m : {mode::no_key, mode::accept_inline, mode::handshake_per_thread}) {
    const bool key = m != mode::no_key;
    temp_dir dir;
    const std::string path = dir.file("silent.sock");
    npipe::listener_options lo;
    npipe::auth_options co;
    if (key) lo.authkey = co.authkey = "silent-key";
    // Per thread, the silent client's handshake may wait long: only its leaving ends it.
    lo.handshake_timeout = m == mode::handshake_per_thread ? 20000ms : c.handshake_timeout;
    npipe::listener l = npipe::listener::listen(path, lo);
    const int honest = 5;
    std::thread server([&] {
      std::vector<std::thread> handshakes;
      for (int i = 0; i < honest + 1; ++i) {
        try {
          if (m == mode::handshake_per_thread) {
            handshakes.emplace_back(serve_one, l.accept_unauthenticated(deadline::after(30s)));
          } else {
            serve_one(l.accept(deadline::after(30s)));
          }
        } catch (const npipe::error&) {
        }
      }
      for (auto& t : handshakes)
        t.join();
    });
    raw_client silent(path);  // connects first and says nothing
    ++r.hostile;
    std::vector<long> latency(honest, -1);
    std::vector<std::thread> clients;
    for (int i = 0; i < honest; ++i) {
      clients.emplace_back([&, i] {
        auto start = clock_type::now();
        try {
          npipe::connection conn = npipe::connection::connect(path, co, deadline::after(30s));
          conn.send_bytes("hi", 2);
          auto m = conn.recv_bytes(64, deadline::after(30s));
          if (m) latency[static_cast<std::size_t>(i)] = elapsed_ms(start);
        } catch (const npipe::error&) {
        }
      });
    }
    for (auto& t : clients)
      t.join();
    silent.close();
    server.join();
    long worst = 0;
    int served = 0;
    for (long ms : latency) {
      if (ms >= 0) ++served;
      worst = std::max(worst, ms);
    }
    r.trials += honest;
    r.survived += served;
    const long limit = static_cast<long>(lo.handshake_timeout.count());
    std::string line =
        std::string("silent client ") +
        (m == mode::no_key          ? "without key"
         : m == mode::accept_inline ? "with authkey, accept()"
                                    : "with authkey, a handshake thread per client") +
        ": " + std::to_string(served) + "/" + std::to_string(honest) +
        " honest clients served, worst latency " + std::to_string(worst) +
        " ms (handshake_timeout " + std::to_string(limit) + " ms)";
    if (served != honest) {
      r.fail(line);
    } else if (m == mode::handshake_per_thread && worst >= limit / 2) {
      // The silent client's handshake ends only when it leaves, after the honest ones are done.
      r.fail(line + ": the honest clients waited for the silent client's handshake");
    } else if (m == mode::accept_inline && worst >= limit / 2) {
      r.note(line +
             ": as designed, accept() runs the handshake inline, so one silent client holds "
             "the accept loop until handshake_timeout (CHAN-AUTH-13 is the way around it)");
    } else {
      r.note(line);
    }
    if (worst > limit + 2000) {
      ++r.hangs;
      r.fail("honest clients waited past handshake_timeout + 2 s beside a silent client");
    }
  }
}

}  // namespace

void profile_hostile_peers(const config& c, std::mt19937_64& rng, row& r) {
  const int fds_before = count_fds();
  {
    watchdog wd(600s, "hostile peers profile");
    hostile_handshakes(c, rng, r);
    lying_lengths(c, rng, r);
    silent_client(c, r);
  }
  const int fds_after = count_fds();
  if (fds_after != fds_before) {
    r.fds_leaked += std::abs(fds_after - fds_before);
    r.fail("descriptors before " + std::to_string(fds_before) + ", after " +
           std::to_string(fds_after));
  }
}

// ---------------------------------------------------------------------------------------------
// Names made by another user, and modes under every umask.

namespace {

std::string read_all(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void check_modes(row& r) {
  const mode_t old = ::umask(0);
  for (mode_t mask : {mode_t{0}, mode_t{022}, mode_t{077}, mode_t{0277}, mode_t{0777}}) {
    // The directory under the usual umask: made under 0277 or 0777 it would be 0500 or 0000,
    // which only root can write in.
    ::umask(old);
    temp_dir dir;
    ::umask(mask);
    for (unsigned mode : {0600u, 0640u, 0660u, 0666u, 0700u}) {
      const std::string f = dir.file("m" + std::to_string(mode) + ".fifo");
      ++r.trials;
      try {
        npipe::fifo_owner o;
        npipe::fifo_options fo;
        fo.mode = mode;
        o = npipe::fifo_owner::create(f, npipe::direction::read, fo);
        struct stat st;
        if (::lstat(f.c_str(), &st) == 0 && (st.st_mode & 07777) == mode) {
          ++r.survived;
        } else {
          r.fail("FIFO mode under umask " + std::to_string(mask) + " differs");
        }
      } catch (const npipe::error& e) {
        r.fail(std::string("FIFO create under umask: ") + e.what());
      }
    }
    for (unsigned mode : {0600u, 0660u, 0666u}) {
      const std::string s = dir.file("m" + std::to_string(mode) + ".sock");
      ++r.trials;
      try {
        npipe::listener_options lo;
        lo.mode = mode;
        npipe::listener l = npipe::listener::listen(s, lo);
        struct stat st;
        if (::lstat(s.c_str(), &st) == 0 && (st.st_mode & 07777) == mode) {
          ++r.survived;
        } else {
          r.fail("socket file mode under umask " + std::to_string(mask) + " differs");
        }
      } catch (const npipe::error& e) {
        r.fail(std::string("listen under umask: ") + e.what());
      }
    }
  }
  ::umask(old);
}

void foreign_names(row& r) {
  if (::geteuid() != 0) {
    r.note("names by another uid: SKIPPED (needs root to switch to 'nobody')");
    return;
  }
  passwd* nobody = ::getpwnam("nobody");
  const uid_t uid = nobody ? nobody->pw_uid : 65534;
  const gid_t gid = nobody ? nobody->pw_gid : 65534;
  temp_dir dir;
  ::chmod(dir.path().c_str(), 0777);  // the other user may create names here (a shared dir)
  const std::string victim = dir.file("victim.txt");
  { std::ofstream(victim) << "root's file"; }
  child other([&] {
    if (::setgid(gid) != 0 || ::setuid(uid) != 0) return 1;
    ::umask(0);
    { std::ofstream(dir.file("reg")) << "squatter"; }
    if (::symlink(victim.c_str(), dir.file("lnk").c_str()) != 0) return 2;
    if (::mkfifo(dir.file("fifo").c_str(), 0666) != 0) return 3;
    return 0;
  });
  if (other.wait() != 0) {
    r.fail("the other user could not create its names");
    return;
  }
  auto expect = [&](const std::string& what, const std::function<void()>& f, errc want) {
    ++r.hostile;
    ++r.trials;
    try {
      f();
      r.fail(what + ": succeeded, expected " + npipe::errc_name(want));
    } catch (const npipe::error& e) {
      if (e.value() == want) {
        ++r.survived;
      } else {
        r.fail(what + ": " + e.what() + ", expected " + npipe::errc_name(want));
      }
    }
  };
  using npipe::direction;
  npipe::fifo_options adopt;
  adopt.adopt_existing = true;
  for (const char* name : {"reg", "lnk", "fifo"}) {
    const std::string p = dir.file(name);
    expect(
        std::string("create over another uid's ") + name,
        [&] { npipe::fifo_owner::create(p, direction::read); }, errc::already_exists);
    expect(
        std::string("listen over another uid's ") + name, [&] { npipe::listener::listen(p); },
        errc::already_exists);
  }
  expect(
      "adopt another uid's regular file",
      [&] { npipe::fifo_owner::create(dir.file("reg"), direction::read, adopt); },
      errc::not_a_pipe);
  expect(
      "adopt another uid's symlink",
      [&] { npipe::fifo_owner::create(dir.file("lnk"), direction::read, adopt); },
      errc::not_a_pipe);
  expect(
      "open_fifo through another uid's symlink",
      [&] { npipe::open_fifo(dir.file("lnk"), direction::write, deadline::immediate()); },
      errc::not_a_pipe);
  ++r.trials;
  if (read_all(dir.file("reg")) == "squatter" && read_all(victim) == "root's file") {
    ++r.survived;
  } else {
    r.fail("a refused name's file (or a symlink's target) was changed");
  }
  // Told to adopt, the owner still refuses the other user's FIFO (mode 0666), leaving it in
  // place (FIFO-SEC-6); only adopt_foreign_owner takes it, as it is (FIFO-CREATE-4).
  expect(
      "adopt another uid's FIFO without adopt_foreign_owner",
      [&] { npipe::fifo_owner::create(dir.file("fifo"), direction::read, adopt); },
      errc::permission_denied);
  ++r.trials;
  struct stat before {};
  if (::lstat(dir.file("fifo").c_str(), &before) == 0 && S_ISFIFO(before.st_mode) &&
      before.st_uid == uid) {
    ++r.survived;
  } else {
    r.fail("the refused FIFO of the other user was removed or replaced");
  }
  ++r.trials;
  try {
    npipe::fifo_options foreign = adopt;
    foreign.adopt_foreign_owner = true;
    npipe::fifo_owner o = npipe::fifo_owner::create(dir.file("fifo"), direction::read, foreign);
    struct stat st {};
    ::lstat(dir.file("fifo").c_str(), &st);
    if (st.st_ino != before.st_ino) {
      r.fail("adopt_foreign_owner replaced the other user's FIFO instead of adopting it");
      return;
    }
    ++r.survived;
    char mode[8];
    std::snprintf(mode, sizeof mode, "%o", st.st_mode & 07777);
    r.note("adopt with adopt_foreign_owner of a FIFO owned by uid " + std::to_string(st.st_uid) +
           " with mode 0" + mode + " is accepted as asked; that uid can still read/write it");
  } catch (const npipe::error& e) {
    r.fail(std::string("adopt_foreign_owner of the other user's FIFO: ") + e.what());
  }
}

}  // namespace

void profile_names(const config&, std::mt19937_64&, row& r) {
  watchdog wd(120s, "names profile");
  check_modes(r);
  foreign_names(r);
}

}  // namespace stress
