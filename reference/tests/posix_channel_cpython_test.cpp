// Smoke test of wire compatibility with the real CPython multiprocessing.connection: Python's
// Listener and Client against npipe's, with an authkey, in both challenge forms, for Python 3.11
// (legacy HMAC-MD5 handshake) and every installed 3.12+ (the {sha256} handshake). A missing
// interpreter FAILS the test: it never passes silently. (harness/ runs the full interop matrix.)
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "channel_test_util.hpp"
#include "cpython.hpp"
#include "npipe/channel.hpp"
#include "npipe/error.hpp"
#include "support.hpp"

namespace {

using namespace std::chrono_literals;
using npipe::errc;
using npipe::chantest::error_of;
using npipe::chantest::text;

// The interpreters: every CPython of the minors asked for, found through PYENV_ROOT, `pyenv root`
// and PATH (support/cpython.hpp).
std::vector<std::string> find_interpreters(int min_minor, int max_minor) {
  std::vector<std::string> found;
  for (const auto& [minor, paths] : npipe::test::find_cpythons(min_minor, max_minor))
    found.insert(found.end(), paths.begin(), paths.end());
  return found;
}

// A Python Listener: one client, echoes every message as b"py:" + message, then reports.
constexpr const char* kPythonListener = R"(
import sys
from multiprocessing.connection import Listener
address, key = sys.argv[1], bytes.fromhex(sys.argv[2])
with Listener(address, family="AF_UNIX", authkey=key) as listener:
    print("ready", flush=True)
    try:
        with listener.accept() as c:
            print("accepted", flush=True)
            while True:
                try:
                    m = c.recv_bytes()
                except EOFError:
                    break
                c.send_bytes(b"py:" + m)
            print("eof", flush=True)
    except Exception as e:
        print("error", type(e).__name__, flush=True)
)";

// A Python Client: sends three messages (one empty, one larger than the 16384 bytes above which
// CPython sends header and payload separately) and checks each reply is b"npipe:" + message.
constexpr const char* kPythonClient = R"(
import sys
from multiprocessing.connection import Client
address, key = sys.argv[1], bytes.fromhex(sys.argv[2])
try:
    c = Client(address, family="AF_UNIX", authkey=key)
except Exception as e:
    print("error", type(e).__name__, flush=True)
    sys.exit(3)
print("connected", flush=True)
for m in (b"", b"small", bytes(range(256)) * 100):
    c.send_bytes(m)
    reply = c.recv_bytes()
    print("reply", "ok" if reply == b"npipe:" + m else "WRONG %d bytes" % len(reply), flush=True)
c.close()
)";

std::string hex(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char ch : s) {
    out += digits[ch >> 4];
    out += digits[ch & 15];
  }
  return out;
}

std::string expect_line(npipe::test::process& p, std::chrono::milliseconds limit = 15s) {
  std::string line;
  EXPECT_TRUE(p.read_line(line, limit)) << "Python said nothing";
  return line;
}

const char* form_name(npipe::challenge_form f) {
  return f == npipe::challenge_form::sha256 ? "sha256" : "legacy_md5";
}

// Python listens; npipe connects, challenging in `form`.
void npipe_client_against_python(const std::string& python, npipe::challenge_form form) {
  SCOPED_TRACE(python + " Listener, npipe client challenging " + form_name(form));
  npipe::test::temp_dir dir;
  const std::string address = dir.file("py.sock");
  const std::string key = std::string("k\0\xff", 3) + "ey";  // any bytes, NUL included
  auto py = npipe::test::process::spawn({python, "-I", "-c", kPythonListener, address, hex(key)});
  ASSERT_EQ(expect_line(py), "ready");
  {
    npipe::auth_options o;
    o.authkey = key;
    o.challenge = form;
    auto c = npipe::connection::connect(address, o, npipe::deadline::after(15s));
    for (const std::string& m : {std::string(), std::string("hello"), std::string(70000, 'q')}) {
      c.send_bytes(m);
      EXPECT_EQ(text(c.recv_bytes(SIZE_MAX, npipe::deadline::after(15s))), "py:" + m);
    }
  }
  EXPECT_EQ(expect_line(py), "accepted");
  EXPECT_EQ(expect_line(py), "eof");
  EXPECT_EQ(py.wait(15s), 0);
}

// npipe listens, challenging in `form`; Python connects.
void python_client_against_npipe(const std::string& python, npipe::challenge_form form) {
  SCOPED_TRACE(python + " Client, npipe listener challenging " + form_name(form));
  npipe::test::temp_dir dir;
  const std::string address = dir.file("np.sock");
  npipe::listener_options o;
  o.authkey = "the key";
  o.challenge = form;
  auto l = npipe::listener::listen(address, o);
  auto py =
      npipe::test::process::spawn({python, "-I", "-c", kPythonClient, address, hex("the key")});
  auto c = l.accept(npipe::deadline::after(15s));
  int echoed = 0;
  while (auto m = c.recv_bytes(SIZE_MAX, npipe::deadline::after(15s))) {
    c.send_bytes("npipe:" + text(m));
    ++echoed;
  }
  EXPECT_EQ(echoed, 3);
  EXPECT_EQ(expect_line(py), "connected");
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(expect_line(py), "reply ok");
  EXPECT_EQ(py.wait(15s), 0);
}

// A wrong key fails on both sides, in both directions, and nobody hangs.
void wrong_keys(const std::string& python) {
  SCOPED_TRACE(python + " with a different key");
  npipe::test::temp_dir dir;
  {
    const std::string address = dir.file("a.sock");
    npipe::listener_options o;
    o.authkey = "right";
    auto l = npipe::listener::listen(address, o);
    auto py =
        npipe::test::process::spawn({python, "-I", "-c", kPythonClient, address, hex("wrong")});
    EXPECT_EQ(error_of([&] { l.accept(npipe::deadline::after(15s)); }), errc::auth_failed);
    EXPECT_EQ(expect_line(py), "error AuthenticationError");
    EXPECT_EQ(py.wait(15s), 3);
  }
  {
    const std::string address = dir.file("b.sock");
    auto py =
        npipe::test::process::spawn({python, "-I", "-c", kPythonListener, address, hex("right")});
    ASSERT_EQ(expect_line(py), "ready");
    npipe::auth_options o;
    o.authkey = "wrong";
    EXPECT_EQ(
        error_of([&] { npipe::connection::connect(address, o, npipe::deadline::after(15s)); }),
        errc::auth_failed);
    EXPECT_EQ(expect_line(py), "error AuthenticationError");
    EXPECT_EQ(py.wait(15s), 0);
  }
}

void run_interop(int min_minor, int max_minor, const std::string& which, const std::string& why) {
  auto found = find_interpreters(min_minor, max_minor);
  ASSERT_FALSE(found.empty()) << npipe::test::cpython_missing(which, why);
  for (const std::string& python : found) {
    for (auto form : {npipe::challenge_form::sha256, npipe::challenge_form::legacy_md5}) {
      npipe_client_against_python(python, form);
      python_client_against_npipe(python, form);
    }
    wrong_keys(python);
  }
}

// NPIPE_REQ: CHAN-AUTH-1
// NPIPE_REQ: CHAN-AUTH-2
// NPIPE_REQ: CHAN-AUTH-4
// NPIPE_REQ: CHAN-AUTH-5
// NPIPE_REQ: CHAN-FRAME-1
TEST(ChannelCPython, Python311ListenerAndClientInterwork) {
  npipe::test::watchdog dog(120s, "CPython 3.11 interop");
  run_interop(11, 11, "CPython 3.11", "the MD5 handshake's interop needs it");
}

// NPIPE_REQ: CHAN-AUTH-1
// NPIPE_REQ: CHAN-AUTH-3
// NPIPE_REQ: CHAN-AUTH-4
// NPIPE_REQ: CHAN-AUTH-5
// NPIPE_REQ: CHAN-FRAME-1
TEST(ChannelCPython, Python312PlusListenerAndClientInterwork) {
  npipe::test::watchdog dog(120s, "CPython 3.12+ interop");
  run_interop(12, 99, "CPython 3.12+",
              "the {sha256} handshake needs 3.12+, which Debian 12 does not package");
}

}  // namespace
