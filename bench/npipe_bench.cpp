// npipe-bench: the C++ side of `make bench` (bench/run.py drives it; see bench/README.md).
//
// Every subcommand does one measurement and prints one JSON object on stdout. The peers of a
// Channel measurement are separate processes so that any of them can be CPython instead
// (bench/py_peer.py speaks the same command line):
//
//   fifo   --impl npipe|c|c-nosigpipe --path P --chunk C --total T [--pipe-size B]
//   serve  --impl npipe --addr A --mode echo|sink|accept [--authkey K --form sha256|md5]
//          [--count N] [--into 1]           prints "ready" once listening, then serves
//   client --impl npipe --addr A --mode echo|stream|connect --size S --count N [--warmup W]
//          (connect: W connections before the clock starts; the listener accepts N + W)
//          [--authkey K --form sha256|md5] [--into 1]
//   floor-pingpong --size S --count N [--warmup W] [--split 1] [--cpu-child C]  plain C, socketpair
//   floor-stream   --size S --count N [--fresh 1] [--cpu-child C]               plain C, socketpair
//   mem-recv --impl npipe --addr A --size S [--into 1 | --maxlength 1]  peak RSS of one receive
//   selfcheck --addr A                                 recv_bytes_into behaves (not a benchmark)
//
// "into": receive with connection::recv_bytes_into and one reused buffer, instead of recv_bytes.
// "maxlength": recv_bytes with maxlength set to the message size (it may then reserve a message
// whole when its header arrives, CHAN-RECV-6), instead of recv_bytes() without a limit.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_output.hpp"
#include "npipe/channel.hpp"
#include "npipe/error.hpp"
#include "npipe/fifo.hpp"

namespace {

using npipe::bench::print_latency;
using npipe::bench::print_stream;

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// --key value pairs.
class args {
 public:
  args(int argc, char** argv) {
    for (int i = 2; i + 1 < argc; i += 2) {
      if (std::strncmp(argv[i], "--", 2) != 0)
        throw std::runtime_error("bad argument " + std::string(argv[i]));
      values_[argv[i] + 2] = argv[i + 1];
    }
  }
  std::string str(const std::string& key, const std::string& fallback = {}) const {
    auto it = values_.find(key);
    if (it != values_.end()) return it->second;
    if (fallback.empty()) throw std::runtime_error("missing --" + key);
    return fallback;
  }
  std::size_t num(const std::string& key, std::size_t fallback = SIZE_MAX) const {
    auto it = values_.find(key);
    if (it != values_.end()) return std::stoull(it->second);
    if (fallback == SIZE_MAX) throw std::runtime_error("missing --" + key);
    return fallback;
  }
  bool flag(const std::string& key) const { return num(key, 0) != 0; }

 private:
  std::map<std::string, std::string> values_;
};

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::exit(2);
}

// --cpu-child C: the forked peer of a floor runs on CPU C (Linux), as run.py places the two
// processes of every npipe and CPython pair, so that the floor and the pairs it is compared with
// are placed alike (the parent is placed by run.py). No option: wherever the scheduler likes.
void place_child(const args& a) {
#ifdef __linux__
  const std::size_t cpu = a.num("cpu-child", SIZE_MAX - 1);
  if (cpu == SIZE_MAX - 1) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<int>(cpu), &set);
  if (::sched_setaffinity(0, sizeof set, &set) != 0) die("sched_setaffinity");
#else
  (void)a;
#endif
}

// Plain C helpers for the floors.
void write_exactly(int fd, const void* buf, std::size_t n) {
  const auto* p = static_cast<const char*>(buf);
  while (n > 0) {
    ssize_t put = ::write(fd, p, n);
    if (put < 0) {
      if (errno == EINTR) continue;
      die("write");
    }
    p += put;
    n -= static_cast<std::size_t>(put);
  }
}

bool read_exactly(int fd, void* buf, std::size_t n) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    ssize_t got = ::read(fd, p, n);
    if (got < 0) {
      if (errno == EINTR) continue;
      die("read");
    }
    if (got == 0) return false;
    p += got;
    n -= static_cast<std::size_t>(got);
  }
  return true;
}

void store_be32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

std::uint32_t load_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// Sends one framed message in one writev, as the floor of a Channel send.
void floor_send(int fd, const std::uint8_t* data, std::uint32_t n) {
  std::uint8_t header[4];
  store_be32(header, n);
  iovec iov[2] = {{header, 4}, {const_cast<std::uint8_t*>(data), n}};
  std::size_t left = 4 + std::size_t{n};
  int count = 2;
  iovec* v = iov;
  while (left > 0) {
    ssize_t put = ::writev(fd, v, count);
    if (put < 0) {
      if (errno == EINTR) continue;
      die("writev");
    }
    left -= static_cast<std::size_t>(put);
    auto done = static_cast<std::size_t>(put);
    while (count > 0 && done >= v->iov_len) {
      done -= v->iov_len;
      ++v;
      --count;
    }
    if (count > 0) {
      v->iov_base = static_cast<char*>(v->iov_base) + done;
      v->iov_len -= done;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// FIFO throughput: a forked writer, this process reads until EOF.

int cmd_fifo(const args& a) {
  const std::string impl = a.str("impl");
  const std::string path = a.str("path");
  const std::size_t chunk = a.num("chunk");
  const std::size_t total = a.num("total");
  const std::size_t pipe_size = a.num("pipe-size", 0);
  ::unlink(path.c_str());
  std::vector<char> buf(chunk, 'x');

  std::optional<npipe::fifo_owner> owner;
  if (impl == "npipe") {
    npipe::fifo_options opts;
    opts.pipe_size = pipe_size;
    owner = npipe::fifo_owner::create(path, npipe::direction::read, opts);
  } else if (impl != "c" && impl != "c-nosigpipe") {
    throw std::runtime_error("unknown --impl " + impl);
  } else if (::mkfifo(path.c_str(), 0600) != 0) {
    die("mkfifo");
  }
  const auto t0 = clock_type::now();
  pid_t pid = ::fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    if (impl == "npipe") {
      npipe::fifo_end out = npipe::open_fifo(path, npipe::direction::write);
      for (std::size_t sent = 0; sent < total; sent += chunk)
        out.write_all(buf.data(), chunk);
    } else {
      int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0) die("open for writing");
      // c-nosigpipe: what FIFO-PIPE-1 costs at least without touching process-wide state, SIGPIPE
      // blocked in this thread around each write (a real one would also consume a raised one).
      const bool nosigpipe = impl == "c-nosigpipe";
      sigset_t only_sigpipe, old_mask;
      sigemptyset(&only_sigpipe);
      sigaddset(&only_sigpipe, SIGPIPE);
      for (std::size_t sent = 0; sent < total; sent += chunk) {
        if (nosigpipe) ::pthread_sigmask(SIG_BLOCK, &only_sigpipe, &old_mask);
        write_exactly(fd, buf.data(), chunk);
        if (nosigpipe) ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
      }
      ::close(fd);
    }
    std::_Exit(0);
  }
  std::size_t got = 0;
  if (impl == "npipe") {
    npipe::fifo_end in = owner->open();
    for (;;) {
      std::size_t n = in.read(buf.data(), chunk);
      if (n == 0) break;
      got += n;
    }
  } else {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("open for reading");
#ifdef F_SETPIPE_SZ
    if (pipe_size > 0 && ::fcntl(fd, F_SETPIPE_SZ, static_cast<int>(pipe_size)) < 0) {
      die("F_SETPIPE_SZ");
    }
#endif
    for (;;) {
      ssize_t n = ::read(fd, buf.data(), chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) die("read");
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    ::close(fd);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  const double s = seconds_since(t0);
  owner.reset();
  ::unlink(path.c_str());
  if (got != total) {
    std::fprintf(stderr, "fifo: got %zu of %zu bytes\n", got, total);
    return 1;
  }
  std::printf("{\"bytes\":%zu,\"seconds\":%.6f,\"bytes_per_s\":%.1f}\n", got, s,
              static_cast<double>(got) / s);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Channel peers.

npipe::auth_options auth_from(const args& a) {
  npipe::auth_options o;
  const std::string key = a.str("authkey", "-");
  if (key != "-") o.authkey = key;
  o.challenge = a.str("form", "sha256") == "md5" ? npipe::challenge_form::legacy_md5
                                                 : npipe::challenge_form::sha256;
  return o;
}

// Receives one message into data(), with recv_bytes (a new vector per message) or, "into", with
// recv_bytes_into and one buffer of `capacity` bytes allocated (and touched) up front, as a
// program that reuses its buffer would.
class receiver {
 public:
  receiver(bool into, std::size_t capacity, bool maxlength = false)
      : into_(into), maxlength_(maxlength ? std::max<std::size_t>(capacity, 64) : SIZE_MAX) {
    if (into_) {
      // npipe::bytes does not zero what resize() adds, so touch every page here, off the clock,
      // as the reused-buffer floor's zero-filled std::vector is touched before it starts.
      buf_.resize(std::max<std::size_t>(capacity, 64));
      std::fill(buf_.begin(), buf_.end(), std::uint8_t{0});
    }
  }
  bool recv(npipe::connection& c) {
    if (into_) {
      std::optional<std::size_t> n = c.recv_bytes_into(buf_.data(), buf_.size());
      size_ = n.value_or(0);
      return n.has_value();
    }
    std::optional<npipe::bytes> m = c.recv_bytes(maxlength_);
    if (!m) return false;
    buf_ = std::move(*m);
    size_ = buf_.size();
    return true;
  }
  const std::uint8_t* data() const { return buf_.data(); }
  std::size_t size() const { return size_; }

 private:
  bool into_;
  std::size_t maxlength_;
  npipe::bytes buf_;  // recv_bytes hands its buffer over; recv_bytes_into fills it
  std::size_t size_ = 0;
};

int cmd_serve(const args& a) {
  npipe::listener_options lo;
  static_cast<npipe::auth_options&>(lo) = auth_from(a);
  const std::string mode = a.str("mode");
  const std::size_t capacity = a.num("size", 64);
  // Its buffer is ready before any client can come.
  receiver r(a.flag("into"), capacity, a.flag("maxlength"));
  npipe::listener l = npipe::listener::listen(a.str("addr"), lo);
  std::printf("ready\n");
  std::fflush(stdout);
  if (mode == "echo") {
    npipe::connection c = l.accept();
    while (r.recv(c))
      c.send_bytes(r.data(), r.size());
  } else if (mode == "sink") {
    npipe::connection c = l.accept();
    std::size_t messages = 0;
    while (r.recv(c) && r.size() > 0)
      ++messages;
    const std::string ack = std::to_string(messages);
    c.send_bytes(ack);
  } else if (mode == "accept") {
    const std::size_t count = a.num("count");
    for (std::size_t i = 0; i < count; ++i)
      l.accept().close();
  } else {
    throw std::runtime_error("unknown mode " + mode);
  }
  return 0;
}

int cmd_client(const args& a) {
  const std::string addr = a.str("addr");
  const std::string mode = a.str("mode");
  const std::size_t count = a.num("count");
  const npipe::auth_options auth = auth_from(a);
  if (mode == "connect") {
    // Warm-up connections first, off the clock: one-time costs (OpenSSL's first use, lazy binding)
    // are not the rate of connecting. The listener accepts count + warmup.
    for (std::size_t i = 0, w = a.num("warmup", count / 10); i < w; ++i)
      npipe::connection::connect(addr, auth).close();
    const auto t0 = clock_type::now();
    for (std::size_t i = 0; i < count; ++i)
      npipe::connection::connect(addr, auth).close();
    const double s = seconds_since(t0);
    std::printf("{\"connections\":%zu,\"seconds\":%.6f,\"per_s\":%.1f}\n", count, s,
                static_cast<double>(count) / s);
    return 0;
  }
  const std::size_t size = a.num("size");
  std::vector<std::uint8_t> msg(size, 'x');
  receiver r(a.flag("into"), size, a.flag("maxlength"));
  npipe::connection c = npipe::connection::connect(addr, auth);
  if (mode == "echo") {
    const std::size_t warmup = a.num("warmup", count / 10);
    std::vector<double> rtt;
    rtt.reserve(count);
    clock_type::time_point t0;
    for (std::size_t i = 0; i < warmup + count; ++i) {
      if (i == warmup) t0 = clock_type::now();
      const auto t = clock_type::now();
      c.send_bytes(msg.data(), msg.size());
      if (!r.recv(c) || r.size() != size) throw std::runtime_error("bad echo");
      if (i >= warmup)
        rtt.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t).count());
    }
    print_latency(rtt, seconds_since(t0));
  } else if (mode == "stream") {
    const auto t0 = clock_type::now();
    for (std::size_t i = 0; i < count; ++i)
      c.send_bytes(msg.data(), msg.size());
    c.send_bytes("", 0);
    if (!r.recv(c)) throw std::runtime_error("no ack");
    print_stream(size, count, seconds_since(t0));
  } else {
    throw std::runtime_error("unknown mode " + mode);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Floors: the same framing in plain C over an AF_UNIX socketpair, no library.

int cmd_floor_pingpong(const args& a) {
  const std::size_t size = a.num("size");
  const std::size_t count = a.num("count");
  const std::size_t warmup = a.num("warmup", count / 10);
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) die("socketpair");
  // split: read the 4-byte header, then the payload it announces, as any reader of a length-framed
  // stream must that never reads past the message (npipe, CPython). Otherwise one read of header
  // and payload together: the size is known in advance.
  const bool split = a.flag("split");
  std::vector<std::uint8_t> buf(4 + size, 'x');
  store_be32(buf.data(), static_cast<std::uint32_t>(size));
  auto read_message = [&](int fd) {
    if (!split) return read_exactly(fd, buf.data(), buf.size());
    return read_exactly(fd, buf.data(), 4) &&
           read_exactly(fd, buf.data() + 4, load_be32(buf.data()));
  };
  pid_t pid = ::fork();
  if (pid < 0) die("fork");
  if (pid == 0) {  // echo
    place_child(a);
    ::close(sv[0]);
    while (read_message(sv[1]))
      write_exactly(sv[1], buf.data(), buf.size());
    std::_Exit(0);
  }
  ::close(sv[1]);
  std::vector<double> rtt;
  rtt.reserve(count);
  clock_type::time_point t0;
  for (std::size_t i = 0; i < warmup + count; ++i) {
    if (i == warmup) t0 = clock_type::now();
    const auto t = clock_type::now();
    write_exactly(sv[0], buf.data(), buf.size());
    if (!read_message(sv[0])) die("echo");
    if (i >= warmup)
      rtt.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t).count());
  }
  const double s = seconds_since(t0);
  ::close(sv[0]);
  ::waitpid(pid, nullptr, 0);
  print_latency(rtt, s);
  return 0;
}

int cmd_floor_stream(const args& a) {
  const std::size_t size = a.num("size");
  const std::size_t count = a.num("count");
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) die("socketpair");
  pid_t pid = ::fork();
  if (pid < 0) die("fork");
  // fresh: every payload goes into a new malloc'd buffer, freed after it, as an API that returns
  // a new buffer per message must (recv_bytes); otherwise into one reused buffer.
  const bool fresh = a.flag("fresh");
  if (pid == 0) {  // sink: read the header, then the payload
    place_child(a);
    ::close(sv[0]);
    std::vector<std::uint8_t> buf(size);
    write_exactly(sv[1], "R", 1);  // buffer ready: the clock may start
    std::uint8_t header[4];
    std::size_t messages = 0;
    while (read_exactly(sv[1], header, 4)) {
      std::uint32_t n = load_be32(header);
      if (n == 0) break;
      void* dst = fresh ? std::malloc(n) : buf.data();
      if (dst == nullptr) die("malloc");
      if (!read_exactly(sv[1], dst, n)) die("short message");
      if (fresh) std::free(dst);
      ++messages;
    }
    floor_send(sv[1], reinterpret_cast<const std::uint8_t*>("ack"), 3);
    std::_Exit(messages == count ? 0 : 1);
  }
  ::close(sv[1]);
  std::vector<std::uint8_t> msg(size, 'x');
  char ready;
  if (!read_exactly(sv[0], &ready, 1)) die("floor sink");
  const auto t0 = clock_type::now();
  for (std::size_t i = 0; i < count; ++i)
    floor_send(sv[0], msg.data(), static_cast<std::uint32_t>(size));
  floor_send(sv[0], msg.data(), 0);
  std::uint8_t ack[7];
  if (!read_exactly(sv[0], ack, sizeof ack)) die("ack");
  const double s = seconds_since(t0);
  ::close(sv[0]);
  ::waitpid(pid, nullptr, 0);
  print_stream(size, count, s);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Memory: peak RSS of receiving one message of `size`, beyond the process's peak before it.

std::size_t peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

int cmd_mem_recv(const args& a) {
  const std::string addr = a.str("addr");
  const std::size_t size = a.num("size");
  const bool into = a.flag("into");
  npipe::listener l = npipe::listener::listen(addr);
  pid_t pid = ::fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    std::vector<std::uint8_t> msg(size, 'x');
    npipe::connection c = npipe::connection::connect(addr);
    c.send_bytes(msg.data(), msg.size());
    std::_Exit(0);
  }
  npipe::connection c = l.accept();
  std::size_t received = 0;
  std::size_t before = 0;
  if (into) {
    // The caller's buffer is part of the payload the caller owns, allocated (and touched) before
    // the baseline is taken, so the figure is what the receive itself costs.
    std::vector<std::uint8_t> buf(size);
    before = peak_rss_kib();
    received = c.recv_bytes_into(buf.data(), buf.size()).value_or(0);
    before -= size / 1024;  // count the caller's buffer as the payload
  } else {
    before = peak_rss_kib();
    const std::size_t maxlength = a.flag("maxlength") ? size : SIZE_MAX;
    received = c.recv_bytes(maxlength).value_or(npipe::bytes{}).size();
  }
  const std::size_t after = peak_rss_kib();
  ::waitpid(pid, nullptr, 0);
  if (received != size) throw std::runtime_error("mem-recv: short message");
  std::printf("{\"payload_bytes\":%zu,\"peak_delta_bytes\":%zu}\n", size, (after - before) * 1024);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// A correctness check of recv_bytes_into (bench-smoke runs it): boundaries, a message resumed
// after a deadline into another buffer or by recv_bytes, a message longer than the buffer, EOF.

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("selfcheck: ") + what);
}

npipe::errc error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const npipe::error& e) {
    return e.value();
  }
  throw std::runtime_error("selfcheck: no error where one was expected");
}

int cmd_selfcheck(const args& a) {
  using std::chrono::milliseconds;
  const std::string addr = a.str("addr");
  npipe::listener l = npipe::listener::listen(addr);
  auto raw = [](npipe::connection& c, const std::string& bytes) {
    write_exactly(c.native_handle(), bytes.data(), bytes.size());
  };
  auto header = [](std::uint32_t n) {
    std::string h(4, '\0');
    store_be32(reinterpret_cast<std::uint8_t*>(&h[0]), n);
    return h;
  };
  char buf[16];
  char other[16];
  {
    npipe::connection client = npipe::connection::connect(addr);
    npipe::connection server = l.accept();
    client.send_bytes("hello");
    client.send_bytes("");
    client.send_bytes("world!");
    check(server.recv_bytes_into(buf, sizeof buf) == 5u && std::memcmp(buf, "hello", 5) == 0,
          "first message");
    check(server.recv_bytes_into(buf, sizeof buf) == 0u, "empty message");
    check(server.recv_bytes_into(buf, sizeof buf) == 6u && std::memcmp(buf, "world!", 6) == 0,
          "third message");
    // Half a message, a deadline, the rest: the next call (another buffer) gets all of it.
    raw(client, header(10) + "abcde");
    check(error_of([&] {
            server.recv_bytes_into(buf, sizeof buf, npipe::deadline::after(milliseconds(50)));
          }) == npipe::errc::timeout,
          "timeout inside a message");
    raw(client, "fghij");
    check(server.recv_bytes_into(other, sizeof other) == 10u &&
              std::memcmp(other, "abcdefghij", 10) == 0,
          "message resumed into another buffer");
    // The same, resumed by recv_bytes.
    raw(client, header(8) + "1234");
    check(error_of([&] {
            server.recv_bytes_into(buf, sizeof buf, npipe::deadline::immediate());
          }) == npipe::errc::would_block,
          "would_block inside a message");
    raw(client, "5678");
    std::optional<npipe::bytes> m = server.recv_bytes();
    check(m && std::string(m->begin(), m->end()) == "12345678", "message resumed by recv_bytes");
    // Longer than the buffer: refused, then the connection is write-only.
    client.send_bytes(std::string(20, 'z'));
    check(error_of([&] { server.recv_bytes_into(buf, 10); }) == npipe::errc::message_too_long,
          "message longer than the buffer");
    check(!server.readable() && server.writable(), "write-only after message_too_long");
    server.send_bytes("still writable");
    check(client.recv_bytes_into(buf, sizeof buf) == 14u, "sending after message_too_long");
  }
  {
    npipe::connection client = npipe::connection::connect(addr);
    npipe::connection server = l.accept();
    client.close();
    check(!server.recv_bytes_into(buf, sizeof buf).has_value(), "EOF on a message boundary");
  }
  std::printf("{\"selfcheck\":\"ok\"}\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: npipe-bench fifo|serve|client|floor-pingpong|floor-stream|mem-recv --key "
                 "value...\n");
    return 2;
  }
  const std::string cmd = argv[1];
  try {
    args a(argc, argv);
    if (cmd == "fifo") return cmd_fifo(a);
    if (cmd == "serve") return cmd_serve(a);
    if (cmd == "client") return cmd_client(a);
    if (cmd == "floor-pingpong") return cmd_floor_pingpong(a);
    if (cmd == "floor-stream") return cmd_floor_stream(a);
    if (cmd == "mem-recv") return cmd_mem_recv(a);
    if (cmd == "selfcheck") return cmd_selfcheck(a);
    std::fprintf(stderr, "npipe-bench: unknown command %s\n", cmd.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "npipe-bench %s: %s\n", cmd.c_str(), e.what());
    return 1;
  }
}
