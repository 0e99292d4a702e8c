// Test support shared by the library's tests: private temporary directories, watchdogs, real child
// processes with pipes, and a proof that a process is blocked. The interface is portable; the
// implementation lives in support_posix.cpp and support_win32.cpp.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace npipe::test {

// A private temporary directory, removed with everything in it on destruction.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const noexcept { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }
  // A FIFO or channel name that no other test uses and that is gone with this directory, the
  // same for the same tag: a path inside it on POSIX; on Windows, where every name lives in the
  // pipe namespace and vanishes with its last handle, a portable name made of the directory's
  // unique leaf name and the tag.
  std::string pipe_name(std::string_view tag) const;

 private:
  std::string path_;
};

// Aborts the whole test process, saying what hung, unless destroyed within `limit`. Every test
// that can block holds one, so a hang becomes a failure with a message instead of a stuck run.
class watchdog {
 public:
  explicit watchdog(std::chrono::milliseconds limit, std::string what = {});
  ~watchdog();
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;

 private:
  struct state;
  state* state_;
};

// A real child process with pipes to its stdin and stdout; its stderr is inherited.
class process {
 public:
  static process spawn(std::vector<std::string> argv,
                       const std::vector<std::string>& extra_env = {});
  // Re-runs this test binary as `--npipe-child NAME args...`; see NPIPE_TEST_CHILD.
  static process spawn_self(const std::string& child_name, std::vector<std::string> args = {});

  process() = default;
  process(process&& other) noexcept;
  process& operator=(process&& other) noexcept;
  ~process();  // kills and reaps the child if it still runs

  int pid() const noexcept { return pid_; }
  void write_stdin(std::string_view data);
  void close_stdin();
  // One line of stdout without its "\n"; false on EOF or when `timeout` passes first.
  bool read_line(std::string& line, std::chrono::milliseconds timeout);
  // Everything left on stdout until EOF; throws std::runtime_error when `timeout` passes first.
  std::string read_stdout_until_eof(std::chrono::milliseconds timeout);
  // The exit status, or 128 + the signal that killed it; nullopt when `timeout` passes first.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  void kill();

 private:
  void release() noexcept;
  int pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  std::string buffered_;  // stdout read past the last line returned
  std::optional<int> status_;
#ifdef _WIN32
  void* process_handle_ = nullptr;
#endif
};

// Registration of child entry points run by process::spawn_self.
using child_main = std::function<int()>;
bool register_child(const char* name, child_main fn);
const std::vector<std::string>& child_args();
// Called first by the test binary's main(): runs a child entry point and exits when asked to.
void run_child_if_requested(int argc, char** argv);

#define NPIPE_TEST_CHILD(name)                                   \
  static int npipe_child_##name();                               \
  static const bool npipe_child_registered_##name =              \
      ::npipe::test::register_child(#name, &npipe_child_##name); \
  static int npipe_child_##name()

// True once the process is asleep in a system call in every thread (Linux: /proc/PID/task/*/stat
// state S or D, and /proc/PID/task/*/syscall not "running"); false when `limit` passes first. This
// proves "this call blocks" without sleeping; where /proc is missing it returns true after a grace
// period, which can only make a test pass wrongly on a slow machine, never fail wrongly.
bool wait_until_blocked(int pid, std::chrono::milliseconds limit);

// The number of open descriptors of this process (for leak checks), -1 where unknown.
int count_open_fds();

std::string cli_path();
std::string agent_path();

}  // namespace npipe::test
