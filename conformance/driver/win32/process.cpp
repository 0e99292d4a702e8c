// win32/process.cpp: one agent in a Job Object of its own, talked to through anonymous pipes
// (see process.hpp).
#include "process.hpp"

#ifndef NOMINMAX
#define NOMINMAX  // std::min, not windows.h's macro
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <stdexcept>

#include "win32/text.hpp"

namespace npipe::conformance {

namespace {

// The exit code TerminateJobObject gives the agents the driver kills (SIGKILL's 128 + 9 on POSIX).
constexpr UINT kKilledCode = 137;

// The jobs of live agents, for kill_all_agent_groups().
constexpr int kMaxLive = 512;
std::atomic<HANDLE> live_jobs[kMaxLive];

void remember(HANDLE job) {
  for (auto& slot : live_jobs) {
    HANDLE empty = nullptr;
    if (slot.compare_exchange_strong(empty, job)) return;
  }
}

void forget(HANDLE job) {
  for (auto& slot : live_jobs) {
    HANDLE want = job;
    if (slot.compare_exchange_strong(want, nullptr)) return;
  }
}

// Inheritable handles exist only while one process is being created: CreateProcess with
// bInheritHandles passes every inheritable handle of the driver, so two agents started at once
// (--jobs) would otherwise inherit each other's pipe ends, and an agent's stdin would never see
// EOF while the other lives.
std::mutex spawn_mu;

// The watchdog's handle on one job: a duplicate of the job handle, owned here, so it stays valid
// after the process object is gone (terminating an empty job does nothing).
class job_killer : public group_killer {
 public:
  explicit job_killer(HANDLE job) {
    if (!DuplicateHandle(GetCurrentProcess(), job, GetCurrentProcess(), &job_, 0, FALSE,
                         DUPLICATE_SAME_ACCESS))
      job_ = nullptr;
  }
  ~job_killer() override {
    if (job_) CloseHandle(job_);
  }
  void kill() noexcept override {
    if (job_) TerminateJobObject(job_, kKilledCode);
  }

 private:
  HANDLE job_ = nullptr;
};

// The agent's stdout, drained by a thread of its own into `data` (so an agent never blocks on a
// full stdout while the driver waits for something else). Shared with that thread: it may
// outlive the process object when the pipe does not break (see ~process).
struct stdout_reader {
  HANDLE pipe = nullptr;
  std::mutex mu;
  std::condition_variable cv;
  std::string data;
  bool eof = false;
};

DWORD WINAPI read_loop(void* arg) {
  auto* holder = static_cast<std::shared_ptr<stdout_reader>*>(arg);
  std::shared_ptr<stdout_reader> rd = *holder;
  delete holder;
  char chunk[65536];
  for (;;) {
    DWORD n = 0;
    if (!ReadFile(rd->pipe, chunk, sizeof chunk, &n, nullptr)) break;  // broken: EOF
    if (n == 0) continue;  // a zero-length write of the agent's: nothing to deliver
    std::lock_guard<std::mutex> lock(rd->mu);
    rd->data.append(chunk, n);
    rd->cv.notify_all();
  }
  CloseHandle(rd->pipe);
  std::lock_guard<std::mutex> lock(rd->mu);
  rd->eof = true;
  rd->cv.notify_all();
  return 0;
}

exit_info exit_of(HANDLE process) {
  DWORD code = 0;
  GetExitCodeProcess(process, &code);
  exit_info e;
  e.code = static_cast<int>(code);
  return e;
}

// The program of a command line (its first word) with '/' turned into '\': CreateProcess takes
// the program path as written, and a configuration writes ${BIN_DIR}/npipe-agent.exe.
std::wstring command_line_of(const std::string& command) {
  std::string cmd = command;
  std::size_t end = 0;
  if (!cmd.empty() && cmd[0] == '"') {
    end = cmd.find('"', 1);
    if (end == std::string::npos) end = cmd.size();
  } else {
    end = cmd.find_first_of(" \t");
    if (end == std::string::npos) end = cmd.size();
  }
  for (std::size_t i = 0; i < end; ++i)
    if (cmd[i] == '/') cmd[i] = '\\';
  return win32::widen(cmd);
}

}  // namespace

struct process::state {
  HANDLE process = nullptr;
  HANDLE job = nullptr;
  HANDLE in = nullptr;  // the driver's end of the agent's stdin
  HANDLE reader_thread = nullptr;
  DWORD pid = 0;
  std::shared_ptr<stdout_reader> out;
  std::optional<exit_info> exit;
  std::shared_ptr<job_killer> killer;
};

void kill_all_agent_groups() noexcept {
  for (auto& slot : live_jobs) {
    HANDLE job = slot.load();
    if (job) TerminateJobObject(job, kKilledCode);
  }
}

std::string exit_info::describe() const {
  auto code32 = static_cast<unsigned>(code);
  if (code32 >= 0xC0000000u) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "terminated by exception 0x%08X", code32);
    return buf;
  }
  return "exited with status " + std::to_string(code);
}

process::process(const options& opts) : st_(std::make_unique<state>()) {
  auto fail = [](const std::string& what) {
    throw std::runtime_error(what + ": " + win32::last_error());
  };
  st_->job = CreateJobObjectW(nullptr, nullptr);
  if (!st_->job) fail("CreateJobObject");
  // The agents die with the driver, even if it is killed: the job's last handle closes.
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
  limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
  SetInformationJobObject(st_->job, JobObjectExtendedLimitInformation, &limits, sizeof limits);

  SECURITY_ATTRIBUTES inherit{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
  HANDLE in_r = nullptr, in_w = nullptr, out_r = nullptr, out_w = nullptr, log = nullptr;
  PROCESS_INFORMATION pi{};
  {
    std::lock_guard<std::mutex> lock(spawn_mu);
    // 1 MiB pipes: a command (or a reply) rarely waits for the other side to read.
    if (!CreatePipe(&in_r, &in_w, &inherit, 1 << 20)) fail("CreatePipe");
    if (!CreatePipe(&out_r, &out_w, &inherit, 1 << 20)) {
      CloseHandle(in_r);
      CloseHandle(in_w);
      fail("CreatePipe");
    }
    SetHandleInformation(in_w, HANDLE_FLAG_INHERIT, 0);
    SetHandleInformation(out_r, HANDLE_FLAG_INHERIT, 0);
    log = CreateFileW(win32::widen(opts.log_path).c_str(), GENERIC_WRITE,
                      FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, &inherit,
                      CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
    STARTUPINFOW si{};
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = in_r;
    si.hStdOutput = out_w;
    si.hStdError = log != INVALID_HANDLE_VALUE ? log : nullptr;
    std::wstring cmd = command_line_of(opts.command);
    std::wstring cwd = win32::widen(opts.cwd);
    // Suspended until it is in the job, so every process it starts is in the job too; a new
    // process group, so a console ^C meant for the driver does not reach it (POSIX: setpgid).
    BOOL ok =
        CreateProcessW(nullptr, cmd.data(), nullptr, nullptr, TRUE,
                       CREATE_SUSPENDED | CREATE_NEW_PROCESS_GROUP | CREATE_UNICODE_ENVIRONMENT,
                       nullptr, cwd.empty() ? nullptr : cwd.c_str(), &si, &pi);
    DWORD error = GetLastError();
    CloseHandle(in_r);
    CloseHandle(out_w);
    if (log != INVALID_HANDLE_VALUE) CloseHandle(log);
    if (!ok) {
      CloseHandle(in_w);
      CloseHandle(out_r);
      CloseHandle(st_->job);
      throw std::runtime_error("CreateProcess of '" + opts.command +
                               "': " + win32::error_text(error));
    }
  }
  if (!AssignProcessToJobObject(st_->job, pi.hProcess)) {
    // Not in the job (an old system without nested jobs): still killed by TerminateProcess, but
    // not its children.
  }
  ResumeThread(pi.hThread);
  CloseHandle(pi.hThread);
  st_->process = pi.hProcess;
  st_->pid = pi.dwProcessId;
  st_->in = in_w;
  st_->out = std::make_shared<stdout_reader>();
  st_->out->pipe = out_r;
  st_->reader_thread =
      CreateThread(nullptr, 0, read_loop, new std::shared_ptr<stdout_reader>(st_->out), 0, nullptr);
  if (!st_->reader_thread) {
    std::lock_guard<std::mutex> lock(st_->out->mu);
    CloseHandle(out_r);
    st_->out->eof = true;
  }
  st_->killer = std::make_shared<job_killer>(st_->job);
  remember(st_->job);
}

process::~process() {
  close_stdin();
  kill_group();
  if (!st_->exit) wait_exit(std::chrono::milliseconds(5000));
  if (st_->reader_thread) {
    // Every writer of the stdout pipe was in the job, so the read ends now; if not (a handle
    // escaped the job), cancel it, and in the worst case leave the thread its own state.
    if (WaitForSingleObject(st_->reader_thread, 5000) == WAIT_TIMEOUT) {
      CancelSynchronousIo(st_->reader_thread);
      WaitForSingleObject(st_->reader_thread, 5000);
    }
    CloseHandle(st_->reader_thread);
  }
  forget(st_->job);
  CloseHandle(st_->job);
  CloseHandle(st_->process);
}

pid_t process::pid() const noexcept {
  return st_->pid;
}

std::optional<exit_info> process::exit_status() const {
  return st_->exit;
}

std::shared_ptr<group_killer> process::killer() const {
  return st_->killer;
}

process::io process::write_stdin(std::string_view bytes, std::chrono::steady_clock::time_point) {
  if (!st_->in) return io::closed;
  std::size_t done = 0;
  while (done < bytes.size()) {
    DWORD n = 0;
    DWORD chunk = static_cast<DWORD>(std::min<std::size_t>(bytes.size() - done, 1 << 20));
    if (!WriteFile(st_->in, bytes.data() + done, chunk, &n, nullptr)) return io::closed;
    done += n;
  }
  return io::ok;
}

process::io process::read_stdout(std::string& out, std::chrono::milliseconds limit) {
  stdout_reader& rd = *st_->out;
  std::unique_lock<std::mutex> lock(rd.mu);
  rd.cv.wait_for(lock, limit, [&] { return !rd.data.empty() || rd.eof; });
  if (!rd.data.empty()) {
    out += rd.data;
    rd.data.clear();
    return io::ok;
  }
  return rd.eof ? io::closed : io::timeout;
}

std::optional<bool> process::stdin_drained() const {
  return std::nullopt;  // PeekNamedPipe needs the read end, which only the agent holds
}

void process::close_stdin() noexcept {
  if (st_->in) CloseHandle(st_->in);
  st_->in = nullptr;
}

std::optional<exit_info> process::try_reap() {
  if (!st_->exit && WaitForSingleObject(st_->process, 0) == WAIT_OBJECT_0)
    st_->exit = exit_of(st_->process);
  return st_->exit;
}

std::optional<exit_info> process::wait_exit(std::chrono::milliseconds limit) {
  if (!st_->exit &&
      WaitForSingleObject(st_->process, static_cast<DWORD>(limit.count())) == WAIT_OBJECT_0)
    st_->exit = exit_of(st_->process);
  return st_->exit;
}

void process::kill_group() noexcept {
  TerminateJobObject(st_->job, kKilledCode);
  if (!st_->exit) TerminateProcess(st_->process, kKilledCode);
}

std::vector<pid_t> process::group_members() const {
  // The job's live processes. A fixed buffer: room for far more than an agent ever starts.
  alignas(JOBOBJECT_BASIC_PROCESS_ID_LIST) unsigned char
      buf[sizeof(JOBOBJECT_BASIC_PROCESS_ID_LIST) + 255 * sizeof(ULONG_PTR)] = {};
  auto* list = reinterpret_cast<JOBOBJECT_BASIC_PROCESS_ID_LIST*>(buf);
  std::vector<pid_t> out;
  if (!QueryInformationJobObject(st_->job, JobObjectBasicProcessIdList, list, sizeof buf, nullptr))
    return out;
  for (DWORD i = 0; i < list->NumberOfProcessIdsInList; ++i) {
    auto p = static_cast<pid_t>(list->ProcessIdList[i]);
    if (p != st_->pid || !st_->exit) out.push_back(p);
  }
  return out;
}

std::vector<pid_t> processes_in_group(pid_t) {
  return {};  // no process groups: process::group_members() reads the job
}

}  // namespace npipe::conformance
