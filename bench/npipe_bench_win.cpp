// npipe-bench-win: the Windows side of `make bench`, run under Wine (bench/wine.py drives it; see
// bench/README.md). Its figures are Wine figures: what npipe's Win32 backend costs on Wine's
// named pipes, next to raw Win32 calls on the same Wine. They say nothing about Windows itself.
//
// Every measurement measures one thing between this process and a peer process (this program
// again, started with CreateProcess, in "peer" mode) and prints one JSON line on stdout, as
// npipe-bench does on POSIX. Process start-up (slow under Wine) is outside every clock: the clock
// starts once both sides are connected and ready.
//
//   fifo    --impl npipe|raw --chunk C --total T
//           this process owns the FIFO and reads; the peer writes T bytes in C-byte writes
//   rtt     --impl npipe|raw --size S --count N [--warmup W] [--into 1]
//           the peer listens and echoes; this process connects and times N round trips
//   stream  --impl npipe|raw --size S --count N [--into 1]
//           the peer listens and receives; this process sends N messages, then waits for an ack
//   connect --count N [--authkey K --form sha256|md5]
//           the peer listens and accepts N clients; this process connects (and closes) N times
//   batch   reads measurements as above, one per line, from stdin until EOF, and runs them in
//           order against ONE peer process: one JSON line each (bench/wine.py's way: starting a
//           Wine process costs about a third of a second, too much to pay twice per run)
//   hello   prints {"hello":"ok"} (creates the Wine prefix before anything is timed)
//
// The peer ("peer" mode) reads its orders from its stdin, one line each ("serve ..." or
// "fifo-peer ..."), runs each and answers "ok" or "error <why>" on its stdout.
//
// "npipe" uses only the public API (npipe/fifo.hpp, npipe/channel.hpp); "raw" is the floor, plain
// synchronous Win32 on a pipe of the same kind and buffer quota as npipe makes: a byte-mode
// CreateNamedPipe + ConnectNamedPipe + ReadFile/WriteFile loop for the FIFO, a message-mode pipe
// with one WriteFile and one ReadFile (into a reused buffer) per message for the Channel.
// "into": the npipe receiver uses connection::recv_bytes_into and one reused buffer.
//
// Every process has a watchdog (--timeout seconds per measurement, default 120): a measurement or
// an order that takes longer ends the process with status 3. The peer is in a job object that
// kills it when this process ends, however it ends; it also exits when its stdin closes.
#include <windows.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_output.hpp"
#include "npipe/channel.hpp"
#include "npipe/error.hpp"
#include "npipe/fifo.hpp"

namespace {

using npipe::bench::print_latency;
using npipe::bench::print_stream;

using clock_type = std::chrono::steady_clock;  // QueryPerformanceCounter on mingw-w64
using std::chrono::milliseconds;

// The buffer quota npipe asks for in each direction (src/win32/pipe_fifo.cpp, pipe_listener.cpp); the raw
// floors ask for the same.
constexpr DWORD kPipeBuffer = 65536;
constexpr DWORD kReadyMs = 60000;  // the other side has this long to get ready

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// A command and its --key value pairs.
class args {
 public:
  explicit args(const std::vector<std::string>& words) {
    if (words.empty()) throw std::runtime_error("empty command");
    command_ = words[0];
    for (std::size_t i = 1; i + 1 < words.size(); i += 2) {
      if (words[i].compare(0, 2, "--") != 0) throw std::runtime_error("bad argument " + words[i]);
      values_[words[i].substr(2)] = words[i + 1];
    }
  }
  static args from_line(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> words;
    for (std::string w; in >> w;)
      words.push_back(w);
    return args(words);
  }
  const std::string& command() const { return command_; }
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
  std::string command_;
  std::map<std::string, std::string> values_;
};

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": Win32 error " + std::to_string(::GetLastError()));
}

// Closes a HANDLE on scope exit; "none" is both NULL and INVALID_HANDLE_VALUE.
class handle {
 public:
  explicit handle(HANDLE h = nullptr) : h_(h == INVALID_HANDLE_VALUE ? nullptr : h) {}
  handle(handle&& o) noexcept : h_(o.h_) { o.h_ = nullptr; }
  handle& operator=(handle&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = o.h_;
      o.h_ = nullptr;
    }
    return *this;
  }
  ~handle() { reset(); }
  HANDLE get() const { return h_; }
  explicit operator bool() const { return h_ != nullptr; }
  void reset() {
    if (h_) ::CloseHandle(h_);
    h_ = nullptr;
  }

 private:
  HANDLE h_;
};

// The process's watchdog: every measurement (and every order of the peer) kicks it; one that
// runs longer than the timeout ends the process with status 3.
class watchdog {
 public:
  void start(unsigned seconds) {
    std::thread([this, seconds] {
      std::unique_lock<std::mutex> lock(m_);
      for (;;) {
        const unsigned long long seen = kicks_;
        if (!cv_.wait_for(lock, std::chrono::seconds(seconds), [&] { return kicks_ != seen; })) {
          std::fprintf(stderr, "npipe-bench-win: watchdog: one step took more than %u s\n",
                       seconds);
          std::fflush(stderr);
          ::ExitProcess(3);
        }
      }
    }).detach();
  }
  void kick() {
    std::lock_guard<std::mutex> lock(m_);
    ++kicks_;
    cv_.notify_all();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  unsigned long long kicks_ = 0;
};

watchdog g_watchdog;

// A name no other run uses: npipe maps the portable name to \\.\pipe\NAME, the floors use
// \\.\pipe\NAME directly; the events beside it are Local\NAME-ready / -go.
std::string unique_name(const char* what) {
  static unsigned seq = 0;
  return "npipe-bench-" + std::string(what) + "-" + std::to_string(::GetCurrentProcessId()) + "-" +
         std::to_string(++seq);
}

std::string raw_path(const std::string& name) {
  return "\\\\.\\pipe\\" + name;
}

handle create_event(const std::string& name) {
  handle h(::CreateEventA(nullptr, TRUE, FALSE, ("Local\\" + name).c_str()));
  if (!h) fail("CreateEvent " + name);
  return h;
}

handle open_event(const std::string& name) {
  handle h(::OpenEventA(EVENT_MODIFY_STATE | SYNCHRONIZE, FALSE, ("Local\\" + name).c_str()));
  if (!h) fail("OpenEvent " + name);
  return h;
}

void wait_event(HANDLE ev, const char* what) {
  if (::WaitForSingleObject(ev, kReadyMs) != WAIT_OBJECT_0)
    throw std::runtime_error(std::string("no '") + what + "' signal in time");
}

// One line from a pipe handle, without the "\n"; false at EOF.
bool read_line(HANDLE h, std::string& line) {
  line.clear();
  for (;;) {
    char c;
    DWORD n = 0;
    if (!::ReadFile(h, &c, 1, &n, nullptr) || n == 0) return !line.empty();
    if (c == '\n') return true;
    if (c != '\r') line += c;
  }
}

void write_line(HANDLE h, const std::string& line) {
  const std::string s = line + "\n";
  DWORD put = 0;
  if (!::WriteFile(h, s.data(), static_cast<DWORD>(s.size()), &put, nullptr) || put != s.size())
    fail("write to the peer");
}

// The peer process: this program in "peer" mode, with a pipe for its orders (its stdin) and one
// for its answers (its stdout); its stderr is ours. In a job object that dies with this process.
class peer_process {
 public:
  explicit peer_process(unsigned timeout_s) {
    char exe[MAX_PATH];
    DWORD n = ::GetModuleFileNameA(nullptr, exe, MAX_PATH);
    if (n == 0 || n >= MAX_PATH) fail("GetModuleFileName");
    std::string cmd = "\"" + std::string(exe) + "\" peer --timeout " + std::to_string(timeout_s);
    SECURITY_ATTRIBUTES inherit{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
    HANDLE orders_read, orders_write, answers_read, answers_write;
    if (!::CreatePipe(&orders_read, &orders_write, &inherit, 0)) fail("CreatePipe");
    handle child_in(orders_read);
    orders_ = handle(orders_write);
    if (!::CreatePipe(&answers_read, &answers_write, &inherit, 0)) fail("CreatePipe");
    handle child_out(answers_write);
    answers_ = handle(answers_read);
    ::SetHandleInformation(orders_.get(), HANDLE_FLAG_INHERIT, 0);  // our ends stay ours
    ::SetHandleInformation(answers_.get(), HANDLE_FLAG_INHERIT, 0);
    HANDLE err = ::GetStdHandle(STD_ERROR_HANDLE);
    if (err && err != INVALID_HANDLE_VALUE)
      ::SetHandleInformation(err, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
    STARTUPINFOA si{};
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = child_in.get();
    si.hStdOutput = child_out.get();
    si.hStdError = err;
    job_ = handle(::CreateJobObjectA(nullptr, nullptr));
    if (job_) {
      JOBOBJECT_EXTENDED_LIMIT_INFORMATION info{};
      info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
      ::SetInformationJobObject(job_.get(), JobObjectExtendedLimitInformation, &info, sizeof info);
    }
    PROCESS_INFORMATION pi{};
    if (!::CreateProcessA(exe, &cmd[0], nullptr, nullptr, TRUE, CREATE_SUSPENDED, nullptr, nullptr,
                          &si, &pi)) {
      fail("CreateProcess " + cmd);
    }
    process_ = handle(pi.hProcess);
    if (job_) ::AssignProcessToJobObject(job_.get(), pi.hProcess);  // best effort
    ::ResumeThread(pi.hThread);
    ::CloseHandle(pi.hThread);
  }
  peer_process(const peer_process&) = delete;
  peer_process& operator=(const peer_process&) = delete;
  ~peer_process() {
    orders_.reset();  // EOF: the peer exits
    if (::WaitForSingleObject(process_.get(), 5000) != WAIT_OBJECT_0)
      ::TerminateProcess(process_.get(), 9);
  }

  // Gives the peer an order ("serve ..." or "fifo-peer ...").
  void start(const std::string& order) { write_line(orders_.get(), order); }

  // Waits for the peer to signal `ev`; fails at once if the peer exits first.
  void wait_ready(HANDLE ev) {
    HANDLE hs[2] = {ev, process_.get()};
    DWORD w = ::WaitForMultipleObjects(2, hs, FALSE, kReadyMs);
    if (w == WAIT_OBJECT_0) return;
    if (w == WAIT_OBJECT_0 + 1) throw std::runtime_error("the peer exited before it was ready");
    throw std::runtime_error("the peer was not ready in time");
  }

  // Waits for the peer's answer to the order (the watchdog bounds the wait).
  void wait_done() {
    std::string answer;
    if (!read_line(answers_.get(), answer)) throw std::runtime_error("the peer died");
    if (answer != "ok") throw std::runtime_error("peer: " + answer);
  }

 private:
  handle orders_;
  handle answers_;
  handle process_;
  handle job_;
};

// ---------------------------------------------------------------------------------------------
// Raw Win32 helpers for the floors: synchronous handles, no npipe.

handle raw_create(const std::string& name, DWORD access, DWORD type) {
  handle h(::CreateNamedPipeA(raw_path(name).c_str(), access | FILE_FLAG_FIRST_PIPE_INSTANCE,
                              type | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS, 1, kPipeBuffer,
                              kPipeBuffer, 0, nullptr));
  if (!h) fail("CreateNamedPipe " + name);
  return h;
}

void raw_accept(HANDLE h) {
  if (!::ConnectNamedPipe(h, nullptr) && ::GetLastError() != ERROR_PIPE_CONNECTED)
    fail("ConnectNamedPipe");
}

handle raw_open(const std::string& name, DWORD access) {
  const std::string path = raw_path(name);
  const auto until = clock_type::now() + milliseconds(kReadyMs);
  for (;;) {
    handle h(::CreateFileA(path.c_str(), access, 0, nullptr, OPEN_EXISTING, 0, nullptr));
    if (h) return h;
    if (::GetLastError() != ERROR_PIPE_BUSY || clock_type::now() > until)
      fail("CreateFile " + path);
    ::WaitNamedPipeA(path.c_str(), 1000);
  }
}

void raw_write(HANDLE h, const void* data, DWORD n) {
  DWORD put = 0;
  if (!::WriteFile(h, data, n, &put, nullptr)) fail("WriteFile");
  if (put != n) throw std::runtime_error("WriteFile: short write");
}

// One message into buf; false at EOF (the peer closed).
bool raw_read_message(HANDLE h, void* buf, DWORD capacity, DWORD& n) {
  n = 0;
  if (::ReadFile(h, buf, capacity, &n, nullptr)) return true;
  DWORD e = ::GetLastError();
  if (e == ERROR_BROKEN_PIPE || e == ERROR_PIPE_NOT_CONNECTED) return false;
  if (e == ERROR_MORE_DATA) throw std::runtime_error("ReadFile: message longer than the buffer");
  fail("ReadFile");
}

// ---------------------------------------------------------------------------------------------
// Output, as npipe-bench prints it (print_latency, print_stream: bench_output.hpp).

std::string with_keys(std::string s, const args& a, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    std::string v = a.str(k, "-");
    if (v != "-") s += std::string(" --") + k + " " + v;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// FIFO throughput: this process owns the FIFO and reads until EOF; the peer (fifo-peer) opens it
// for writing, waits for "go" and writes. The clock runs from "go" to EOF.

int measure_fifo(peer_process& p, const args& a) {
  const std::string impl = a.str("impl");
  const std::size_t chunk = a.num("chunk");
  const std::size_t total = a.num("total");
  const std::string name = unique_name("fifo");
  const std::string order = with_keys("fifo-peer --name " + name, a, {"impl", "chunk", "total"});
  handle go = create_event(name + "-go");
  std::vector<char> buf(chunk);
  std::size_t got = 0;
  double s = 0;
  if (impl == "npipe") {
    npipe::fifo_owner owner = npipe::fifo_owner::create(name, npipe::direction::read);
    p.start(order);
    npipe::fifo_end in = owner.open(npipe::deadline::after(milliseconds(kReadyMs)));
    const auto t0 = clock_type::now();
    ::SetEvent(go.get());
    while (std::size_t n = in.read(buf.data(), chunk))
      got += n;
    s = seconds_since(t0);
  } else {
    handle h = raw_create(name, PIPE_ACCESS_INBOUND, PIPE_TYPE_BYTE | PIPE_READMODE_BYTE);
    p.start(order);
    raw_accept(h.get());
    const auto t0 = clock_type::now();
    ::SetEvent(go.get());
    for (;;) {
      DWORD n = 0;
      if (!::ReadFile(h.get(), buf.data(), static_cast<DWORD>(chunk), &n, nullptr)) {
        if (::GetLastError() == ERROR_BROKEN_PIPE) break;  // EOF
        fail("ReadFile");
      }
      got += n;
    }
    s = seconds_since(t0);
  }
  p.wait_done();
  if (got != total) throw std::runtime_error("fifo: got " + std::to_string(got) + " bytes");
  std::printf("{\"bytes\":%zu,\"seconds\":%.6f,\"bytes_per_s\":%.1f}\n", got, s,
              static_cast<double>(got) / s);
  return 0;
}

void order_fifo_peer(const args& a) {
  const std::string name = a.str("name");
  const std::size_t chunk = a.num("chunk");
  const std::size_t total = a.num("total");
  std::vector<char> buf(chunk, 'x');
  handle go = open_event(name + "-go");
  if (a.str("impl") == "npipe") {
    npipe::fifo_end out = npipe::open_fifo(name, npipe::direction::write,
                                           npipe::deadline::after(milliseconds(kReadyMs)));
    wait_event(go.get(), "go");
    for (std::size_t sent = 0; sent < total; sent += chunk)
      out.write_all(buf.data(), chunk);
  } else {
    handle h = raw_open(name, GENERIC_WRITE);
    wait_event(go.get(), "go");
    for (std::size_t sent = 0; sent < total; sent += chunk)
      raw_write(h.get(), buf.data(), static_cast<DWORD>(chunk));
  }
}

// ---------------------------------------------------------------------------------------------
// Channel: the peer (serve) listens, signals "ready" and serves; this process is the client.

npipe::auth_options auth_from(const args& a) {
  npipe::auth_options o;
  const std::string key = a.str("authkey", "-");
  if (key != "-") o.authkey = key;
  o.challenge = a.str("form", "sha256") == "md5" ? npipe::challenge_form::legacy_md5
                                                 : npipe::challenge_form::sha256;
  return o;
}

// Receives one npipe message with recv_bytes, or ("into") with recv_bytes_into into one buffer
// allocated (and touched) up front.
class receiver {
 public:
  receiver(bool into, std::size_t capacity) : into_(into) {
    if (into_) buf_.resize(std::max<std::size_t>(capacity, 64));
  }
  bool recv(npipe::connection& c) {
    if (into_) {
      std::optional<std::size_t> n = c.recv_bytes_into(buf_.data(), buf_.size());
      size_ = n.value_or(0);
      return n.has_value();
    }
    std::optional<npipe::bytes> m = c.recv_bytes();
    if (!m) return false;
    buf_ = std::move(*m);
    size_ = buf_.size();
    return true;
  }
  const std::uint8_t* data() const { return buf_.data(); }
  std::size_t size() const { return size_; }

 private:
  bool into_;
  npipe::bytes buf_;  // recv_bytes hands its buffer over; recv_bytes_into fills it
  std::size_t size_ = 0;
};

void serve_npipe(const args& a, HANDLE ready) {
  npipe::listener_options lo;
  static_cast<npipe::auth_options&>(lo) = auth_from(a);
  const std::string mode = a.str("mode");
  receiver r(a.flag("into"), a.num("size", 64));
  npipe::listener l = npipe::listener::listen(a.str("name"), lo);
  ::SetEvent(ready);
  const auto until = npipe::deadline::after(milliseconds(kReadyMs));
  if (mode == "echo") {
    npipe::connection c = l.accept(until);
    while (r.recv(c))
      c.send_bytes(r.data(), r.size());
  } else if (mode == "sink") {
    npipe::connection c = l.accept(until);
    std::size_t messages = 0;
    while (r.recv(c) && r.size() > 0)
      ++messages;
    c.send_bytes(std::to_string(messages));
    // Until the client has read the ack and closed: closing first may discard the ack.
    while (r.recv(c)) {
    }
  } else if (mode == "accept") {
    const std::size_t count = a.num("count");
    for (std::size_t i = 0; i < count; ++i)
      l.accept(until).close();
  } else {
    throw std::runtime_error("unknown mode " + mode);
  }
}

void serve_raw(const args& a, HANDLE ready) {
  const std::string mode = a.str("mode");
  std::vector<std::uint8_t> buf(std::max<std::size_t>(a.num("size", 64), 64));
  handle h =
      raw_create(a.str("name"), PIPE_ACCESS_DUPLEX, PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE);
  ::SetEvent(ready);
  raw_accept(h.get());
  DWORD n = 0;
  const DWORD cap = static_cast<DWORD>(buf.size());
  if (mode == "echo") {
    while (raw_read_message(h.get(), buf.data(), cap, n))
      raw_write(h.get(), buf.data(), n);
  } else if (mode == "sink") {
    std::size_t messages = 0;
    while (raw_read_message(h.get(), buf.data(), cap, n) && n > 0)
      ++messages;
    const std::string ack = std::to_string(messages);
    raw_write(h.get(), ack.data(), static_cast<DWORD>(ack.size()));
    // Until the client has read the ack and closed: closing first may discard the ack.
    while (raw_read_message(h.get(), buf.data(), cap, n)) {
    }
  } else {
    throw std::runtime_error("unknown mode " + mode);
  }
}

void order_serve(const args& a) {
  handle ready = open_event(a.str("name") + "-ready");
  if (a.str("impl") == "npipe") {
    serve_npipe(a, ready.get());
  } else {
    serve_raw(a, ready.get());
  }
}

// Orders the peer to serve `name` and waits until it listens.
void start_serving(peer_process& p, const std::string& name, const std::string& serve_args) {
  handle ready = create_event(name + "-ready");
  p.start("serve --name " + name + " " + serve_args);
  p.wait_ready(ready.get());
}

npipe::connection npipe_connect(const std::string& name, const npipe::auth_options& auth = {}) {
  return npipe::connection::connect(name, auth, npipe::deadline::after(milliseconds(kReadyMs)));
}

handle raw_connect(const std::string& name) {
  handle h = raw_open(name, GENERIC_READ | GENERIC_WRITE);
  DWORD mode = PIPE_READMODE_MESSAGE;
  if (!::SetNamedPipeHandleState(h.get(), &mode, nullptr, nullptr)) fail("SetNamedPipeHandleState");
  return h;
}

std::string serve_args(const std::string& impl, const std::string& mode, std::size_t size,
                       bool into) {
  return "--impl " + impl + " --mode " + mode + " --size " + std::to_string(size) +
         (into ? " --into 1" : "");
}

int measure_rtt(peer_process& p, const args& a) {
  const std::string impl = a.str("impl");
  const std::size_t size = a.num("size");
  const std::size_t count = a.num("count");
  const std::size_t warmup = a.num("warmup", count / 10);
  const bool into = a.flag("into");
  const std::string name = unique_name("rtt");
  start_serving(p, name, serve_args(impl, "echo", size, into));
  std::vector<std::uint8_t> msg(size, 'x');
  std::vector<double> rtt;
  rtt.reserve(count);
  clock_type::time_point t0;
  auto round_trips = [&](auto&& one) {
    for (std::size_t i = 0; i < warmup + count; ++i) {
      if (i == warmup) t0 = clock_type::now();
      const auto t = clock_type::now();
      if (!one()) throw std::runtime_error("bad echo");
      if (i >= warmup)
        rtt.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t).count());
    }
  };
  double total = 0;
  if (impl == "npipe") {
    receiver r(into, size);
    npipe::connection c = npipe_connect(name);
    round_trips([&] {
      c.send_bytes(msg.data(), msg.size());
      return r.recv(c) && r.size() == size;
    });
    total = seconds_since(t0);
  } else {
    std::vector<std::uint8_t> buf(std::max<std::size_t>(size, 64));
    handle h = raw_connect(name);
    round_trips([&] {
      DWORD n = 0;
      raw_write(h.get(), msg.data(), static_cast<DWORD>(size));
      return raw_read_message(h.get(), buf.data(), static_cast<DWORD>(buf.size()), n) && n == size;
    });
    total = seconds_since(t0);
  }
  p.wait_done();
  print_latency(rtt, total);
  return 0;
}

int measure_stream(peer_process& p, const args& a) {
  const std::string impl = a.str("impl");
  const std::size_t size = a.num("size");
  const std::size_t count = a.num("count");
  const std::string name = unique_name("stream");
  start_serving(p, name, serve_args(impl, "sink", size, a.flag("into")));
  std::vector<std::uint8_t> msg(size, 'x');
  std::string ack;
  double seconds = 0;
  if (impl == "npipe") {
    npipe::connection c = npipe_connect(name);
    const auto t0 = clock_type::now();
    for (std::size_t i = 0; i < count; ++i)
      c.send_bytes(msg.data(), msg.size());
    c.send_bytes("", 0);
    std::optional<npipe::bytes> m = c.recv_bytes();
    seconds = seconds_since(t0);
    if (m) ack.assign(m->begin(), m->end());
  } else {
    handle h = raw_connect(name);
    char buf[64];
    DWORD n = 0;
    const auto t0 = clock_type::now();
    for (std::size_t i = 0; i < count; ++i)
      raw_write(h.get(), msg.data(), static_cast<DWORD>(size));
    raw_write(h.get(), msg.data(), 0);
    if (raw_read_message(h.get(), buf, sizeof buf, n)) ack.assign(buf, n);
    seconds = seconds_since(t0);
  }
  p.wait_done();
  if (ack != std::to_string(count))
    throw std::runtime_error("the sink counted " + ack + " messages, not " + std::to_string(count));
  print_stream(size, count, seconds);
  return 0;
}

int measure_connect(peer_process& p, const args& a) {
  const std::size_t count = a.num("count");
  const npipe::auth_options auth = auth_from(a);
  std::string sargs = "--impl npipe --mode accept --count " + std::to_string(count);
  if (auth.authkey) sargs += " --authkey " + *auth.authkey + " --form " + a.str("form", "sha256");
  const std::string name = unique_name("connect");
  start_serving(p, name, sargs);
  const auto t0 = clock_type::now();
  for (std::size_t i = 0; i < count; ++i)
    npipe_connect(name, auth).close();
  const double seconds = seconds_since(t0);
  p.wait_done();
  std::printf("{\"connections\":%zu,\"seconds\":%.6f,\"per_s\":%.1f}\n", count, seconds,
              static_cast<double>(count) / seconds);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// The modes.

bool is_measurement(const std::string& cmd) {
  return cmd == "fifo" || cmd == "rtt" || cmd == "stream" || cmd == "connect";
}

int measure(peer_process& p, const args& a) {
  g_watchdog.kick();
  const std::string& cmd = a.command();
  int rc = 2;
  if (cmd == "fifo") rc = measure_fifo(p, a);
  if (cmd == "rtt") rc = measure_rtt(p, a);
  if (cmd == "stream") rc = measure_stream(p, a);
  if (cmd == "connect") rc = measure_connect(p, a);
  std::fflush(stdout);
  return rc;
}

// Measurements from stdin, one per line, against one peer.
int run_batch(unsigned timeout_s) {
  peer_process p(timeout_s);
  char line[4096];
  while (std::fgets(line, sizeof line, stdin)) {
    args a = args::from_line(line);
    if (!is_measurement(a.command()))
      throw std::runtime_error("batch: not a measurement: " + a.command());
    if (measure(p, a) != 0) return 1;
  }
  return 0;
}

// The peer: orders from stdin, one per line; "ok" or "error <why>" on stdout after each.
int run_peer() {
  HANDLE in = ::GetStdHandle(STD_INPUT_HANDLE);
  HANDLE out = ::GetStdHandle(STD_OUTPUT_HANDLE);
  std::string line;
  while (read_line(in, line)) {
    g_watchdog.kick();
    std::string answer = "ok";
    try {
      args a = args::from_line(line);
      if (a.command() == "serve") {
        order_serve(a);
      } else if (a.command() == "fifo-peer") {
        order_fifo_peer(a);
      } else {
        throw std::runtime_error("unknown order " + a.command());
      }
    } catch (const std::exception& e) {
      answer = "error " + std::string(e.what());
      std::replace(answer.begin(), answer.end(), '\n', ' ');
    }
    write_line(out, answer);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: npipe-bench-win fifo|rtt|stream|connect|batch|hello --key value...\n");
    return 2;
  }
  const std::string cmd = argv[1];
  try {
    args a(std::vector<std::string>(argv + 1, argv + argc));
    const auto timeout_s = static_cast<unsigned>(a.num("timeout", 120));
    g_watchdog.start(timeout_s);
    if (cmd == "hello") {
      std::printf("{\"hello\":\"ok\"}\n");
      return 0;
    }
    if (cmd == "peer") return run_peer();
    if (cmd == "batch") return run_batch(timeout_s);
    if (is_measurement(cmd)) {
      peer_process p(timeout_s);
      return measure(p, a);
    }
    std::fprintf(stderr, "npipe-bench-win: unknown command %s\n", cmd.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "npipe-bench-win %s: %s\n", cmd.c_str(), e.what());
    return 1;
  }
}
