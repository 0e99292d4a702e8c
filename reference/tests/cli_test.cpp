// Tests of the command-line tool bin/npipe, run as real processes: every command, the exit status
// of each portable error (ERR-3), --help, SIGPIPE, interrupts, a large stream, authentication
// between two CLIs and interop with CPython 3.11 and 3.12+ multiprocessing.connection.
//
// POSIX only for now: paths, /bin/sh (to capture stderr) and signals. The Windows twin will use
// \\.\pipe\ names.
#ifndef _WIN32

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cpython.hpp"
#include "npipe/error.hpp"
#include "protocol/codec.hpp"
#include "support.hpp"

namespace {

using namespace std::chrono_literals;
using npipe::test::process;
using npipe::test::temp_dir;
using npipe::test::watchdog;

constexpr auto kLimit = 20s;  // for any one process to finish; the watchdog is the backstop

int status_of(npipe::errc e) {
  return 9 + static_cast<int>(e);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// A CLI process whose stderr goes to a file of the test's directory (/bin/sh execs the CLI, so
// pid() is the CLI's own).
struct cli {
  process proc;
  std::string err_file;

  cli(const temp_dir& dir, std::vector<std::string> args) {
    static int counter = 0;
    err_file = dir.file("stderr-" + std::to_string(++counter) + ".txt");
    std::vector<std::string> argv = {"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>\"$NPIPE_TEST_STDERR\"",
                                     npipe::test::cli_path()};
    argv.insert(argv.end(), args.begin(), args.end());
    proc = process::spawn(std::move(argv), {"NPIPE_TEST_STDERR=" + err_file});
  }
  std::string err() const { return slurp(err_file); }
  int finish() {
    auto status = proc.wait(kLimit);
    if (!status) {
      ADD_FAILURE() << "npipe did not exit within the limit";
      return -1;
    }
    return *status;
  }
};

struct outcome {
  int status;
  std::string out;
  std::string err;
};

// Runs the CLI to completion with `input` (small: it is written before stdout is read).
outcome run(const temp_dir& dir, std::vector<std::string> args, const std::string& input = {}) {
  cli c(dir, std::move(args));
  if (!input.empty()) c.proc.write_stdin(input);
  c.proc.close_stdin();
  outcome o;
  o.out = c.proc.read_stdout_until_eof(kLimit);
  o.status = c.finish();
  o.err = c.err();
  return o;
}

// The first line of stderr names the portable error: "npipe: <name>: ...".
void expect_error(const outcome& o, npipe::errc e) {
  EXPECT_EQ(o.status, status_of(e)) << "stderr: " << o.err;
  std::string prefix = std::string("npipe: ") + npipe::errc_name(e) + ": ";
  EXPECT_EQ(o.err.compare(0, prefix.size(), prefix), 0) << "stderr: " << o.err;
}

std::string pattern_bytes(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  npipe::protocol::fill_pattern(reinterpret_cast<std::uint8_t*>(&s[0]), n, seed);
  return s;
}

std::string sha256_of(const std::string& bytes) {
  npipe::protocol::sha256 h;
  h.update(bytes.data(), bytes.size());
  return h.hex_digest();
}

// True once `c` is blocked in its open/accept: the name it owns then exists.
bool blocked(cli& c) {
  return npipe::test::wait_until_blocked(c.proc.pid(), 10s);
}

// True when this process runs with `sig` ignored, which the CLI then rightly keeps ignoring.
bool ignored(int sig) {
  struct sigaction old;
  return ::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN;
}

// ---- CPython ------------------------------------------------------------------------------------

// One interpreter of each authentication generation: the newest 3.11 (MD5 challenges) and the
// newest 3.12+ ({sha256} challenges), found through PYENV_ROOT, `pyenv root` and PATH
// (support/cpython.hpp). A missing one fails the test: interop is not optional.
std::vector<std::string> interop_pythons() {
  std::vector<std::string> out;
  auto old = npipe::test::find_cpythons(11, 11);
  auto modern = npipe::test::find_cpythons(12, 99);
  if (old.empty())
    ADD_FAILURE() << npipe::test::cpython_missing("CPython 3.11",
                                                  "the MD5 handshake's interop needs it");
  if (modern.empty())
    ADD_FAILURE() << npipe::test::cpython_missing(
        "CPython 3.12+", "the {sha256} handshake needs 3.12+, which Debian 12 does not package");
  if (!old.empty()) out.push_back(old.rbegin()->second.back());
  if (!modern.empty()) out.push_back(modern.rbegin()->second.back());
  return out;
}

// argv: address, key, messages... Connects, sends each message with send_bytes, closes.
constexpr const char* kPythonClient = R"(
import sys
from multiprocessing.connection import Client
c = Client(sys.argv[1], authkey=sys.argv[2].encode())
for m in sys.argv[3:]:
    c.send_bytes(m.encode())
c.close()
)";

// argv: address, key. Listens, says "ready", accepts one client, prints each message's hex.
constexpr const char* kPythonListener = R"(
import sys
from multiprocessing.connection import Listener
with Listener(sys.argv[1], authkey=sys.argv[2].encode()) as l:
    print("ready", flush=True)
    with l.accept() as c:
        while True:
            try:
                print("msg " + c.recv_bytes().hex(), flush=True)
            except EOFError:
                break
print("eof", flush=True)
)";

// ---- help and usage -----------------------------------------------------------------------------

// NPIPE_REQ: ERR-3
TEST(Cli, HelpDocumentsEveryCommandAndExitStatus) {
  watchdog dog(30s, "npipe --help");
  temp_dir dir;
  for (auto args : {std::vector<std::string>{"--help"}, {"read", "--help"}, {"help"}}) {
    outcome o = run(dir, args);
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_TRUE(o.err.empty()) << o.err;
    for (const char* word :
         {"npipe mkfifo", "npipe read", "npipe write", "npipe recv", "npipe send", "--create",
          "--adopt", "--mode", "--timeout", "--authkey-file", "--challenge", "usage error"}) {
      EXPECT_NE(o.out.find(word), std::string::npos) << "--help does not mention " << word;
    }
    for (int e = 1; e <= 13; ++e) {
      std::string row =
          std::to_string(9 + e) + "  " + npipe::errc_name(static_cast<npipe::errc>(e));
      EXPECT_NE(o.out.find(row), std::string::npos) << "exit status table lacks: " << row;
    }
  }
}

// NPIPE_REQ: ERR-3
TEST(Cli, UsageErrorsExitTwoNamingTheArgumentAndCreateNothing) {
  watchdog dog(60s, "usage errors");
  temp_dir dir;
  std::string p = dir.file("p");
  std::string empty_key = dir.file("empty.key");
  write_file(empty_key, "");
  struct usage_case {
    std::vector<std::string> args;
    const char* named;
  };
  const std::vector<usage_case> cases = {
      {{}, "missing command"},
      {{"frobnicate", p}, "frobnicate"},
      {{"read"}, "PATH"},
      {{"read", p, "extra"}, "extra"},
      {{"read", p, "--create", "--bogus"}, "--bogus"},
      {{"read", p, "--create", "--timeout", "soon"}, "--timeout"},
      {{"write", p, "--create", "--timeout", "-1"}, "--timeout"},
      {{"write", p, "--create", "--timeout"}, "--timeout"},
      {{"mkfifo", p, "--mode", "968"}, "--mode"},
      {{"mkfifo", p, "--mode", "17777"}, "--mode"},
      {{"read", p, "--mode", "600"}, "--mode"},
      {{"read", p, "--create", "--create"}, "--create"},
      {{"send"}, "ADDRESS"},
      {{"recv", p, "--authkey-file", empty_key}, "empty"},
      {{"recv", p, "--authkey-file", dir.file("missing.key")}, "--authkey-file"},
      {{"recv", p, "--authkey-file", empty_key, "--challenge", "sha1"}, "--challenge"},
      {{"send", p, "--challenge", "md5", "x"}, "--challenge"},
  };
  for (const auto& c : cases) {
    outcome o = run(dir, c.args);
    std::string shown;
    for (const auto& a : c.args)
      shown += " " + a;
    EXPECT_EQ(o.status, 2) << "npipe" << shown << "\nstderr: " << o.err;
    EXPECT_NE(o.err.find(c.named), std::string::npos) << "npipe" << shown << "\nstderr: " << o.err;
    EXPECT_FALSE(exists(p)) << "npipe" << shown << " created " << p;
  }
}

// ---- mkfifo -------------------------------------------------------------------------------------

// NPIPE_REQ: FIFO-CREATE-1 FIFO-CREATE-2 FIFO-CREATE-3 ERR-3
TEST(Cli, MkfifoAppliesTheModeExactlyAndRefusesAnExistingName) {
  watchdog dog(30s, "npipe mkfifo");
  temp_dir dir;
  ::umask(022);  // inherited by the CLI: --mode 666 must still give 0666
  struct stat st;

  ASSERT_EQ(run(dir, {"mkfifo", dir.file("a")}).status, 0);
  ASSERT_EQ(::lstat(dir.file("a").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  ASSERT_EQ(run(dir, {"mkfifo", dir.file("b"), "--mode", "666"}).status, 0);
  ASSERT_EQ(::lstat(dir.file("b").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0666u);

  expect_error(run(dir, {"mkfifo", dir.file("a")}), npipe::errc::already_exists);
  write_file(dir.file("r"), "keep me");
  expect_error(run(dir, {"mkfifo", dir.file("r")}), npipe::errc::already_exists);
  EXPECT_EQ(slurp(dir.file("r")), "keep me");
}

// ---- exit statuses ------------------------------------------------------------------------------

// NPIPE_REQ: ERR-1 ERR-3 FIFO-OPEN-3 FIFO-OPEN-4 FIFO-OPEN-6 FIFO-OPEN-7 FIFO-OPEN-8 FIFO-CREATE-4
TEST(Cli, FifoFailuresExitNinePlusTheError) {
  watchdog dog(60s, "FIFO failures");
  temp_dir dir;
  std::string fifo = dir.file("fifo");
  std::string file = dir.file("file");
  std::string link = dir.file("link");
  ASSERT_EQ(run(dir, {"mkfifo", fifo}).status, 0);
  write_file(file, "precious");
  ASSERT_EQ(::symlink(fifo.c_str(), link.c_str()), 0);
  using npipe::errc;

  expect_error(run(dir, {"read", dir.file("none")}), errc::not_found);
  expect_error(run(dir, {"read", file}), errc::not_a_pipe);
  expect_error(run(dir, {"write", file}), errc::not_a_pipe);
  expect_error(run(dir, {"write", file, "--adopt"}), errc::not_a_pipe);
  EXPECT_EQ(slurp(file), "precious") << "a regular file was written or truncated";
  expect_error(run(dir, {"read", link}), errc::not_a_pipe);
  expect_error(run(dir, {"write", fifo, "--timeout", "0"}), errc::would_block);
  expect_error(run(dir, {"read", fifo, "--create"}), errc::already_exists);
  EXPECT_TRUE(exists(fifo)) << "a failed --create removed someone else's FIFO";
  expect_error(run(dir, {"read", ""}), errc::invalid_name);

  // An owner whose deadline passes removes the name it made.
  std::string late = dir.file("late");
  auto start = std::chrono::steady_clock::now();
  expect_error(run(dir, {"read", late, "--create", "--timeout", "0.2"}), errc::timeout);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 200ms);
  EXPECT_FALSE(exists(late)) << "the owner left its FIFO behind after a timeout";
}

// NPIPE_REQ: ERR-3 NAME-4 CHAN-CONNECT-1 CHAN-ACCEPT-1
TEST(Cli, ChannelFailuresExitNinePlusTheError) {
  watchdog dog(60s, "channel failures");
  temp_dir dir;
  using npipe::errc;
  expect_error(run(dir, {"send", dir.file("nobody"), "hi"}), errc::not_found);
  expect_error(run(dir, {"recv", dir.file(std::string(120, 'x'))}), errc::invalid_name);

  std::string sock = dir.file("sock");
  expect_error(run(dir, {"recv", sock, "--timeout", "0.2"}), errc::timeout);
  EXPECT_FALSE(exists(sock)) << "recv left its socket file after a timeout";
}

// ---- data ---------------------------------------------------------------------------------------

// NPIPE_REQ: FIFO-IO-1 FIFO-EOF-1 FIFO-LIFE-4
TEST(Cli, LargeStreamThroughReadCreateAndWriteArrivesUnchanged) {
  watchdog dog(60s, "16 MiB through npipe read --create / npipe write");
  temp_dir dir;
  std::string path = dir.file("stream");
  const std::string data = pattern_bytes(16u << 20, 42);

  cli reader(dir, {"read", path, "--create"});
  reader.proc.close_stdin();
  ASSERT_TRUE(blocked(reader));  // in open(): the FIFO exists now
  struct stat st;
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  ASSERT_TRUE(S_ISFIFO(st.st_mode));

  std::string received;
  std::thread drain([&] {
    try {
      received = reader.proc.read_stdout_until_eof(50s);
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
    }
  });
  cli writer(dir, {"write", path});
  writer.proc.write_stdin(data);
  writer.proc.close_stdin();
  drain.join();

  EXPECT_EQ(writer.finish(), 0) << writer.err();
  EXPECT_EQ(reader.finish(), 0) << reader.err();
  EXPECT_EQ(received.size(), data.size());
  EXPECT_EQ(sha256_of(received), sha256_of(data));
  EXPECT_FALSE(exists(path)) << "read --create did not remove its FIFO";
}

// NPIPE_REQ: FIFO-CREATE-4 FIFO-LIFE-3
TEST(Cli, AdoptTakesOverAnExistingFifoAndRemovesIt) {
  watchdog dog(30s, "npipe write --adopt");
  temp_dir dir;
  std::string path = dir.file("adopted");
  ASSERT_EQ(run(dir, {"mkfifo", path}).status, 0);

  cli writer(dir, {"write", path, "--adopt"});
  writer.proc.write_stdin("adopted bytes\n");
  writer.proc.close_stdin();
  outcome r = run(dir, {"read", path});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "adopted bytes\n");
  EXPECT_EQ(writer.finish(), 0) << writer.err();
  EXPECT_FALSE(exists(path)) << "the adopting owner did not remove the FIFO";
}

// ---- signals ------------------------------------------------------------------------------------

// Runs argv with stdout a pipe whose read end is closed: any write to stdout gets EPIPE (or
// SIGPIPE, which this child leaves at its default).
NPIPE_TEST_CHILD(closed_stdout) {
  int p[2];
  if (::pipe(p) != 0) return 120;
  ::close(p[0]);
  ::dup2(p[1], STDOUT_FILENO);
  ::close(p[1]);
  std::vector<std::string> args = npipe::test::child_args();
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(&a[0]);
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  return 121;
}

// NPIPE_REQ: FIFO-PIPE-1 ERR-3
TEST(Cli, NeverKilledBySigpipe) {
  watchdog dog(60s, "SIGPIPE");
  temp_dir dir;
  const int broken = status_of(npipe::errc::broken_pipe);

  // --help into a closed stdout.
  process help = process::spawn_self("closed_stdout", {npipe::test::cli_path(), "--help"});
  help.close_stdin();
  EXPECT_EQ(help.wait(kLimit), broken) << "141 is death by SIGPIPE";

  // A reader whose stdout is closed fails at its first copy; its writer, left with no reader,
  // then fails too: 1 MiB cannot fit in the pipe, so it must meet the broken pipe.
  std::string path = dir.file("fifo");
  process reader =
      process::spawn_self("closed_stdout", {npipe::test::cli_path(), "read", path, "--create"});
  reader.close_stdin();
  ASSERT_TRUE(npipe::test::wait_until_blocked(reader.pid(), 10s));
  cli writer(dir, {"write", path});
  std::thread feed([&] {
    try {
      writer.proc.write_stdin(pattern_bytes(1u << 20, 1));
    } catch (const std::exception&) {
      // The writer may stop reading its stdin once it has failed: that is the point.
    }
    writer.proc.close_stdin();
  });
  EXPECT_EQ(reader.wait(kLimit), broken);
  EXPECT_EQ(writer.finish(), broken) << writer.err();
  feed.join();
  EXPECT_EQ(writer.err().rfind("npipe: broken_pipe: ", 0), 0u) << writer.err();
  EXPECT_FALSE(exists(path)) << "the failed owner left its FIFO behind";
}

// NPIPE_REQ: FIFO-LIFE-4 FIFO-REMOVE-4
TEST(Cli, InterruptedOwnerRemovesItsNameAndDiesOfTheSignal) {
  watchdog dog(60s, "SIGINT/SIGTERM to an owner");
  temp_dir dir;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    if (ignored(sig)) continue;  // started under nohup or in a background job
    std::string path = dir.file("owned-" + std::to_string(sig));
    cli owner(dir, {"write", path, "--create"});
    ASSERT_TRUE(blocked(owner));
    ASSERT_TRUE(exists(path));
    ASSERT_EQ(::kill(owner.proc.pid(), sig), 0);
    EXPECT_EQ(owner.finish(), 128 + sig) << "should end as the signal ends it";
    EXPECT_FALSE(exists(path)) << "signal " << sig << " left the FIFO behind";
  }

  // A name replaced under the owner is someone else's: the interrupt leaves it alone.
  std::string path = dir.file("replaced");
  cli owner(dir, {"read", path, "--create"});
  ASSERT_TRUE(blocked(owner));
  ASSERT_EQ(::unlink(path.c_str()), 0);
  write_file(path, "not yours");
  ASSERT_EQ(::kill(owner.proc.pid(), SIGTERM), 0);
  EXPECT_EQ(owner.finish(), 128 + SIGTERM);
  EXPECT_EQ(slurp(path), "not yours");
}

// ---- channel ------------------------------------------------------------------------------------

// NPIPE_REQ: CHAN-AUTH-1 CHAN-AUTH-5 CHAN-FRAME-3 CHAN-EOF-1 ERR-3
TEST(Cli, RecvAndSendAuthenticateWithAKeyFile) {
  watchdog dog(60s, "npipe recv / npipe send with a key");
  temp_dir dir;
  std::string key = dir.file("key");
  std::string other = dir.file("other");
  write_file(key, "s3cret\n");  // the newline is part of the key
  write_file(other, "s3cret");

  for (const char* challenge : {"sha256", "md5"}) {
    std::string sock = dir.file(std::string("sock-") + challenge);
    cli receiver(dir, {"recv", sock, "--authkey-file", key, "--challenge", challenge});
    receiver.proc.close_stdin();
    ASSERT_TRUE(blocked(receiver));
    outcome s = run(dir, {"send", sock, "--authkey-file", key, "hello", "two words", "", "--",
                          "--not-an-option"});
    EXPECT_EQ(s.status, 0) << s.err;
    EXPECT_EQ(receiver.proc.read_stdout_until_eof(kLimit), "hello\ntwo words\n\n--not-an-option\n");
    EXPECT_EQ(receiver.finish(), 0) << receiver.err();
    EXPECT_FALSE(exists(sock)) << "recv left its socket file";
  }

  // A key that differs by one trailing newline is a different key: both sides say so.
  std::string sock = dir.file("sock-wrong");
  cli receiver(dir, {"recv", sock, "--authkey-file", key, "--timeout", "10"});
  receiver.proc.close_stdin();
  ASSERT_TRUE(blocked(receiver));
  outcome s = run(dir, {"send", sock, "--authkey-file", other, "leak"});
  expect_error(s, npipe::errc::auth_failed);
  EXPECT_EQ(receiver.proc.read_stdout_until_eof(kLimit), "")
      << "a message passed a failed handshake";
  EXPECT_EQ(receiver.finish(), status_of(npipe::errc::auth_failed)) << receiver.err();
}

// NPIPE_REQ: CHAN-AUTH-2 CHAN-AUTH-3 CHAN-AUTH-4 CHAN-FRAME-1 CHAN-FRAME-3
TEST(Cli, CpythonClientToNpipeRecv) {
  watchdog dog(90s, "CPython Client -> npipe recv");
  temp_dir dir;
  std::string key = dir.file("key");
  write_file(key, "py-key");
  for (const std::string& python : interop_pythons()) {
    for (const char* challenge : {"sha256", "md5"}) {
      SCOPED_TRACE(python + " against npipe recv --challenge " + challenge);
      std::string sock =
          dir.file("py-" + std::to_string(std::hash<std::string>()(python)) + challenge);
      cli receiver(dir, {"recv", sock, "--authkey-file", key, "--challenge", challenge});
      receiver.proc.close_stdin();
      ASSERT_TRUE(blocked(receiver));
      process client = process::spawn(
          {python, "-c", kPythonClient, sock, "py-key", "first", "", "third message"});
      client.close_stdin();
      EXPECT_EQ(client.wait(kLimit), 0) << "the Python client failed (its stderr is above)";
      EXPECT_EQ(receiver.proc.read_stdout_until_eof(kLimit), "first\n\nthird message\n");
      EXPECT_EQ(receiver.finish(), 0) << receiver.err();
    }
  }
}

// NPIPE_REQ: CHAN-AUTH-2 CHAN-AUTH-3 CHAN-AUTH-4 CHAN-FRAME-1 CHAN-FRAME-3
TEST(Cli, NpipeSendToCpythonListener) {
  watchdog dog(90s, "npipe send -> CPython Listener");
  temp_dir dir;
  std::string key = dir.file("key");
  write_file(key, "py-key");
  for (const std::string& python : interop_pythons()) {
    for (const char* challenge : {"sha256", "md5"}) {
      SCOPED_TRACE(python + " against npipe send --challenge " + challenge);
      std::string sock =
          dir.file("py-" + std::to_string(std::hash<std::string>()(python)) + challenge);
      process listener = process::spawn({python, "-c", kPythonListener, sock, "py-key"});
      listener.close_stdin();
      std::string line;
      ASSERT_TRUE(listener.read_line(line, kLimit)) << "the Python listener did not start";
      ASSERT_EQ(line, "ready");
      outcome s = run(dir, {"send", sock, "--authkey-file", key, "--challenge", challenge, "hi", "",
                            "\xff binary"});
      EXPECT_EQ(s.status, 0) << s.err;
      EXPECT_EQ(listener.read_stdout_until_eof(kLimit),
                "msg 6869\nmsg \nmsg ff2062696e617279\neof\n");
      EXPECT_EQ(listener.wait(kLimit), 0);
    }
  }
}

}  // namespace

#endif  // _WIN32
