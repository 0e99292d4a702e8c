// stress/stress_util.hpp: the small toolbox of the stress tool: results table, descriptor
// counting, temporary directories, children, watchdogs and the byte pattern.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace stress {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

// One row of the final table.
struct row {
  std::string profile;
  long trials = 0;
  long faults = 0;    // faults injected: kills, signals, descriptor starvation, hostile peers
  long survived = 0;  // trials whose survivor behaved as the spec says
  long bytes_lost = 0;
  long fds_leaked = 0;
  long hangs = 0;    // a call that overran its deadline by more than the slack
  long hostile = 0;  // hostile inputs tried
  long failures = 0;
  std::vector<std::string> notes;  // failures (first few) and measurements
  void fail(const std::string& what) {
    ++failures;
    if (notes.size() < 12) notes.push_back("FAIL: " + what);
    std::fprintf(stderr, "[%s] FAIL: %s\n", profile.c_str(), what.c_str());
  }
  void note(const std::string& what) {
    notes.push_back(what);
    std::fprintf(stderr, "[%s] %s\n", profile.c_str(), what.c_str());
  }
};

// Open descriptors of this process (/proc/self/fd, less the one reading it).
inline int count_fds() {
  int n = 0;
  if (auto* d = ::opendir("/proc/self/fd")) {
    while (auto* e = ::readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    ::closedir(d);
    return n - 1;
  }
  return -1;
}

// A private temporary directory (mode 0700), removed with its contents on destruction.
class temp_dir {
 public:
  temp_dir() {
    char tmpl[] = "/tmp/npipe-stress-XXXXXX";
    if (!::mkdtemp(tmpl)) {
      std::perror("mkdtemp");
      std::abort();
    }
    path_ = tmpl;
  }
  ~temp_dir() { remove_all(path_); }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  static void remove_all(const std::string& p);
  std::string path_;
};

// Aborts the whole tool, naming what hung, unless destroyed within `limit`: a hang becomes a
// reported failure (exit status 3) instead of a stuck run.
class watchdog {
 public:
  watchdog(std::chrono::milliseconds limit, std::string what)
      : what_(std::move(what)), thread_([this, limit] {
          std::unique_lock<std::mutex> lock(m_);
          started_ = true;
          cv_.notify_all();
          if (!cv_.wait_for(lock, limit, [this] { return done_; })) {
            std::fprintf(stderr, "npipe-stress: HANG: %s did not finish within %lld ms\n",
                         what_.c_str(), static_cast<long long>(limit.count()));
            std::fflush(stderr);
            ::_exit(3);
          }
        }) {
    // Returns only once the thread is asleep in its wait: a fork() right after this must not
    // catch the thread mid-start-up holding an allocator lock (ASan's allocator is not fork-safe
    // in LLVM 14: a child forked then deadlocked in its first free(), found under make test-asan).
    std::unique_lock<std::mutex> lock(m_);
    cv_.wait(lock, [this] { return started_; });
  }
  ~watchdog() {
    {
      std::lock_guard<std::mutex> lock(m_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;

 private:
  std::string what_;
  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
  bool started_ = false;
  std::thread thread_;
};

// A forked child running `body`; its exit status is body's return value. Killed and reaped on
// destruction if still running.
class child {
 public:
  child() = default;
  explicit child(const std::function<int()>& body) {
    pid_ = ::fork();
    if (pid_ < 0) {
      std::perror("fork");
      std::abort();
    }
    if (pid_ == 0) {
      int rc = 99;
      try {
        rc = body();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "npipe-stress child: uncaught exception: %s\n", e.what());
        rc = 98;
      }
      ::_exit(rc);
    }
  }
  child(child&& o) noexcept : pid_(o.pid_), status_(o.status_) { o.pid_ = -1; }
  ~child() {
    if (pid_ > 0) {
      kill();
      wait();
    }
  }
  child& operator=(const child&) = delete;
  int pid() const { return pid_; }
  void kill() {
    if (pid_ > 0 && status_ < 0) ::kill(pid_, SIGKILL);
  }
  // Exit status, or 128 + signal.
  int wait() {
    if (pid_ <= 0 || status_ >= 0) return status_;
    int st = 0;
    while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return status_;
  }

 private:
  int pid_ = -1;
  int status_ = -1;
};

// A one-shot notification pipe between a child and its parent (the write end is used by the
// child after fork; the parent waits for a byte or EOF with a deadline).
class notify_pipe {
 public:
  notify_pipe() {
    if (::pipe2(fds_, O_CLOEXEC) != 0) {
      std::perror("pipe2");
      std::abort();
    }
  }
  ~notify_pipe() { close_both(); }
  notify_pipe(const notify_pipe&) = delete;
  notify_pipe& operator=(const notify_pipe&) = delete;
  void close_both() {
    for (int& fd : fds_) {
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
  }
  // In the parent after fork: drop the write end so a dead child reads as EOF.
  void parent_side() {
    ::close(fds_[1]);
    fds_[1] = -1;
  }
  void signal(char c = 'r') {
    ssize_t ignored = ::write(fds_[1], &c, 1);
    (void)ignored;
  }
  // The byte sent, 0 on EOF (the child died first), -1 on timeout.
  int wait(int timeout_ms) {
    pollfd p{fds_[0], POLLIN, 0};
    for (;;) {
      int rc = ::poll(&p, 1, timeout_ms);
      if (rc < 0 && errno == EINTR) continue;
      if (rc <= 0) return -1;
      char c = 0;
      ssize_t got = ::read(fds_[0], &c, 1);
      if (got < 0 && errno == EINTR) continue;
      return got == 1 ? static_cast<unsigned char>(c) : 0;
    }
  }

 private:
  int fds_[2] = {-1, -1};
};

// Kills `pid` with SIGKILL after `delay`, from a thread (the survivor is blocked meanwhile). The
// delay is the fault-injection point, not a synchronisation.
class delayed_kill {
 public:
  delayed_kill(int pid, std::chrono::microseconds delay)
      : thread_([pid, delay] {
          std::this_thread::sleep_for(delay);
          ::kill(pid, SIGKILL);
        }) {}
  ~delayed_kill() { thread_.join(); }

 private:
  std::thread thread_;
};

inline long elapsed_ms(clock_type::time_point since) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - since).count());
}

inline bool path_exists(const std::string& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

// Resident set high-water mark of this process, in KiB (/proc/self/status VmHWM).
long vm_hwm_kib();
// Raises the soft RLIMIT_NOFILE to at least `want` (up to the hard limit); returns the soft limit.
long raise_nofile(long want);

}  // namespace stress
