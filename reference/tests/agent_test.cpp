// Tests of bin/npipe-agent against spec/driver-protocol.md v1, run as real processes: hello,
// malformed lines, unknown ops, handles, blocking observed as "no reply yet", payloads and
// digests, errors in the portable vocabulary, bye and EOF on stdin.
//
// POSIX only for now (paths as names, /proc for the blocked-proof).
#ifndef _WIN32

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "npipe/version.hpp"
#include "protocol/codec.hpp"
#include "support.hpp"

namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using npipe::test::process;
using npipe::test::temp_dir;
using npipe::test::watchdog;

constexpr auto kReplyLimit = 10s;

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::string b64(const std::string& bytes) {
  return npipe::protocol::base64_encode(bytes);
}

std::string pattern_sha256(std::size_t n, unsigned seed, std::size_t repeat = 1) {
  std::string s(n, '\0');
  npipe::protocol::fill_pattern(reinterpret_cast<std::uint8_t*>(&s[0]), n, seed);
  npipe::protocol::sha256 h;
  for (std::size_t i = 0; i < repeat; ++i)
    h.update(s.data(), s.size());
  return h.hex_digest();
}

// One agent process and the protocol's two moves: send a command, take its reply.
class agent {
 public:
  agent() : proc_(process::spawn({npipe::test::agent_path()})) {}

  int pid() const { return proc_.pid(); }
  process& proc() { return proc_; }

  // Sends a command without waiting (for commands that block).
  void send(json cmd) {
    if (!cmd.contains("id")) cmd["id"] = ++id_;
    last_id_ = cmd["id"];
    send_raw(cmd.dump());
  }
  void send_raw(const std::string& line) { proc_.write_stdin(line + "\n"); }

  // The next reply line, parsed; it must answer the last command (same id).
  json reply() {
    std::string line;
    if (!proc_.read_line(line, kReplyLimit)) {
      ADD_FAILURE() << "no reply from the agent within the limit";
      return json::object();
    }
    json r = json::parse(line, nullptr, false);
    EXPECT_TRUE(r.is_object()) << "not a JSON object: " << line;
    if (!r.is_object()) return json::object();
    EXPECT_TRUE(r.contains("ok") && r["ok"].is_boolean()) << line;
    EXPECT_EQ(r.value("id", json()), last_id_) << line;
    return r;
  }

  json call(json cmd) {
    send(std::move(cmd));
    return reply();
  }
  // A call that must succeed.
  json ok(json cmd) {
    std::string shown = cmd.dump();
    json r = call(std::move(cmd));
    EXPECT_EQ(r.value("ok", false), true) << shown << " -> " << r.dump();
    return r;
  }
  // A call that must fail with `error`.
  json fails(json cmd, const char* error) {
    std::string shown = cmd.dump();
    json r = call(std::move(cmd));
    EXPECT_EQ(r.value("ok", true), false) << shown << " -> " << r.dump();
    EXPECT_EQ(r.value("error", ""), error) << shown << " -> " << r.dump();
    return r;
  }
  void expect_ids(json id) { last_id_ = std::move(id); }

 private:
  process proc_;
  std::int64_t id_ = 0;
  json last_id_;
};

// ---- session ------------------------------------------------------------------------------------

// NPIPE_REQ: ERR-1
TEST(Agent, HelloAnnouncesProtocolOneAndEveryOp) {
  watchdog dog(30s, "agent hello");
  agent a;
  json r = a.ok({{"id", 41}, {"op", "hello"}});
  EXPECT_EQ(r["id"], 41);
  EXPECT_EQ(r["protocol"], 1);
  EXPECT_EQ(r["impl"], "npipe-reference");
  EXPECT_EQ(r["version"], NPIPE_VERSION_STRING);
#ifdef __linux__
  EXPECT_EQ(r["platform"], "linux");
#endif
  EXPECT_EQ(r["profiles"], json({"fifo", "channel"}));
  for (const char* op : {"hello", "bye", "create", "open", "read", "write", "remove", "release",
                         "close", "listen", "accept", "connect", "send", "recv"}) {
    EXPECT_NE(std::find(r["ops"].begin(), r["ops"].end(), op), r["ops"].end()) << op;
  }
}

// NPIPE_REQ: ERR-1
TEST(Agent, MalformedLinesGetProtocolErrorNamingTheField) {
  watchdog dog(30s, "agent malformed lines");
  temp_dir dir;
  std::string name = dir.file("f");
  agent a;
  a.ok({{"op", "hello"}});
  // An owner and its read end, so that checks of a handle's fields can be reached.
  std::string owner = a.ok({{"op", "create"}, {"name", name}, {"dir", "w"}})["handle"];
  a.send({{"op", "open"}, {"owner", owner}, {"dir", "w"}});
  agent peer;
  std::string reader = peer.ok({{"op", "open"}, {"name", name}, {"dir", "r"}})["handle"];
  std::string writer = a.reply()["handle"];

  struct bad_line {
    std::string line;
    json id;
    const char* field;
  };
  const std::vector<bad_line> lines = {
      {"this is not json", nullptr, "line"},
      {"", nullptr, "line"},
      {"[1,2,3]", nullptr, "line"},
      {R"({"op":"hello"})", nullptr, "id"},
      {R"({"id":"7","op":"hello"})", "7", "id"},
      {R"({"id":1.5,"op":"hello"})", 1.5, "id"},
      {R"({"id":3})", 3, "op"},
      {R"({"id":4,"op":5})", 4, "op"},
      {R"({"id":5,"op":"create","dir":"r"})", 5, "name"},
      {R"({"id":6,"op":"create","name":")" + dir.file("x") + R"(","dir":"sideways"})", 6, "dir"},
      {R"({"id":7,"op":"create","name":")" + dir.file("x") + R"(","dir":"r","mode":"600"})", 7,
       "mode"},
      {R"({"id":8,"op":"create","name":")" + dir.file("x") + R"(","dir":"r","mode":99999})", 8,
       "mode"},
      {R"({"id":9,"op":"create","name":")" + dir.file("x") + R"(","dir":"r","adopt":"yes"})", 9,
       "adopt"},
      {R"({"id":10,"op":"open","dir":"r"})", 10, "name"},
      {R"({"id":11,"op":"write","handle":")" + writer + R"(","data":"***"})", 11, "data"},
      {R"({"id":12,"op":"write","handle":")" + writer + R"("})", 12, "data"},
      {R"({"id":13,"op":"write","handle":")" + writer + R"(","pattern":{"size":5,"seed":300}})", 13,
       "pattern.seed"},
      {R"({"id":14,"op":"write","handle":")" + writer + R"(","pattern":{"size":-5,"seed":1}})", 14,
       "pattern.size"},
      {R"({"id":15,"op":"write","handle":")" + writer + R"(","data":"","repeat":-1})", 15,
       "repeat"},
      {R"({"id":16,"op":"read","handle":")" + reader + R"(","max":0})", 16, "max"},
      {R"({"id":17,"op":"read","handle":")" + reader + R"(","timeout_ms":-1})", 17, "timeout_ms"},
      {R"({"id":18,"op":"read","handle":")" + reader + R"(","timeout_ms":"soon"})", 18,
       "timeout_ms"},
      {R"({"id":19,"op":"read","handle":")" + reader + R"(","digest":1})", 19, "digest"},
      {R"({"id":20,"op":"read","handle":7})", 20, "handle"},
      {R"({"id":21,"op":"listen"})", 21, "address"},
      {R"({"id":22,"op":"listen","address":")" + dir.file("s") + R"(","authkey":"!"})", 22,
       "authkey"},
      {R"({"id":23,"op":"listen","address":")" + dir.file("s") + R"(","challenge":"sha1"})", 23,
       "challenge"},
  };
  for (const auto& l : lines) {
    // The bad line goes to `peer` when it names the peer's handle.
    agent& target = l.line.find(reader) != std::string::npos ? peer : a;
    target.expect_ids(l.id);
    target.send_raw(l.line);
    json r = target.reply();
    EXPECT_EQ(r.value("ok", true), false) << l.line;
    EXPECT_EQ(r.value("error", ""), "protocol_error") << l.line << " -> " << r.dump();
    EXPECT_NE(r.value("message", "").find(l.field), std::string::npos)
        << l.line << " -> " << r.dump() << " does not name " << l.field;
  }
  EXPECT_FALSE(exists(dir.file("x"))) << "a malformed create created its name";
  EXPECT_FALSE(exists(dir.file("s"))) << "a malformed listen created its socket";
  // Still alive, still in step, and the handles still work.
  a.ok({{"op", "hello"}});
  EXPECT_EQ(a.ok({{"op", "write"}, {"handle", writer}, {"data", b64("ok")}})["written"], 2);
  EXPECT_EQ(peer.ok({{"op", "read"}, {"handle", reader}})["data"], b64("ok"));
}

// NPIPE_REQ: ERR-1 ERR-6
TEST(Agent, UnknownOpIsUnsupportedAndChangesNothing) {
  watchdog dog(30s, "agent unknown op");
  agent a;
  a.ok({{"op", "hello"}});
  for (const char* op : {"mkfifo", "unlink", "HELLO", ""})
    a.fails({{"op", op}}, "unsupported");
  a.ok({{"op", "hello"}});
}

// NPIPE_REQ: FIFO-LIFE-4 FIFO-LIFE-6
TEST(Agent, HandlesAreUniqueCheckedByKindAndGoneAfterClose) {
  watchdog dog(30s, "agent handles");
  temp_dir dir;
  agent a;
  a.ok({{"op", "hello"}});
  std::string owner = a.ok({{"op", "create"}, {"name", dir.file("f")}, {"dir", "r"}})["handle"];
  // POSIX: a non-blocking open for reading succeeds at once (FIFO-OPEN-5).
  std::string end =
      a.ok({{"op", "open"}, {"owner", owner}, {"dir", "r"}, {"timeout_ms", 0}})["handle"];
  EXPECT_NE(owner, end);
  a.fails({{"op", "read"}, {"handle", owner}}, "protocol_error");
  a.fails({{"op", "write"}, {"handle", end}, {"data", b64("x")}}, "protocol_error");  // a read end
  a.fails({{"op", "accept"}, {"handle", end}}, "protocol_error");
  a.fails({{"op", "open"}, {"owner", owner}, {"dir", "w"}}, "protocol_error");
  a.fails({{"op", "read"}, {"handle", "nonesuch"}}, "protocol_error");

  a.ok({{"op", "close"}, {"handle", end}});
  a.fails({{"op", "close"}, {"handle", end}}, "protocol_error");
  a.fails({{"op", "read"}, {"handle", end}}, "protocol_error");
  a.ok({{"op", "close"}, {"handle", owner}});
  EXPECT_FALSE(exists(dir.file("f"))) << "closing an owner must remove its name";

  // Handles are never reused, even after close.
  std::string again = a.ok({{"op", "create"}, {"name", dir.file("f")}, {"dir", "r"}})["handle"];
  EXPECT_NE(again, owner);
  EXPECT_NE(again, end);
  a.ok({{"op", "release"}, {"handle", again}});
  a.ok({{"op", "close"}, {"handle", again}});
  EXPECT_TRUE(exists(dir.file("f"))) << "a released name must outlive its owner";
}

// ---- FIFO profile -------------------------------------------------------------------------------

// NPIPE_REQ: FIFO-OPEN-1 FIFO-IO-1 FIFO-IO-3 FIFO-EOF-1 FIFO-PIPE-1
TEST(Agent, FifoBetweenTwoAgentsBlocksStreamsAndDigests) {
  watchdog dog(60s, "agent FIFO round trip");
  temp_dir dir;
  std::string name = dir.file("fifo");
  agent owner, peer;
  owner.ok({{"op", "hello"}});
  peer.ok({{"op", "hello"}});
  std::string o = owner.ok({{"op", "create"}, {"name", name}, {"dir", "r"}})["handle"];

  // The blocking open: no reply until the writer comes.
  owner.send({{"op", "open"}, {"owner", o}, {"dir", "r"}});
  ASSERT_TRUE(npipe::test::wait_until_blocked(owner.pid(), 10s)) << "open did not block";
  std::string w = peer.ok({{"op", "open"}, {"name", name}, {"dir", "w"}})["handle"];
  json opened = owner.reply();
  ASSERT_EQ(opened.value("ok", false), true) << opened.dump();
  std::string r = opened["handle"];

  // Empty with a writer present: the non-blocking and the deadline forms.
  owner.fails({{"op", "read"}, {"handle", r}, {"timeout_ms", 0}}, "would_block");
  auto start = std::chrono::steady_clock::now();
  owner.fails({{"op", "read"}, {"handle", r}, {"timeout_ms", 100}}, "timeout");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);

  // Exact bytes, including ones that are not UTF-8.
  const std::string bytes("hello\0\xff\n", 8);
  EXPECT_EQ(peer.ok({{"op", "write"}, {"handle", w}, {"data", b64(bytes)}})["written"], 8);
  EXPECT_EQ(owner.ok({{"op", "read"}, {"handle", r}, {"max", 65536}})["data"], b64(bytes));

  // 3 x 1.5 MiB through the pipe's 64 KiB: the writer blocks until the digest reader drains it.
  const std::size_t size = 3u << 19;
  peer.send(
      {{"op", "write"}, {"handle", w}, {"pattern", {{"size", size}, {"seed", 7}}}, {"repeat", 3}});
  ASSERT_TRUE(npipe::test::wait_until_blocked(peer.pid(), 10s)) << "a full pipe did not block";
  owner.send({{"op", "read"}, {"handle", r}, {"digest", true}});
  EXPECT_EQ(peer.reply()["written"], 3 * size);
  peer.ok({{"op", "close"}, {"handle", w}});
  json digest = owner.reply();
  EXPECT_EQ(digest["size"], 3 * size);
  EXPECT_EQ(digest["sha256"], pattern_sha256(size, 7, 3));
  EXPECT_EQ(digest["eof"], true);
  EXPECT_EQ(owner.ok({{"op", "read"}, {"handle", r}})["eof"], true);

  // A writer with no reader left: broken_pipe, and the agent lives on (no SIGPIPE).
  std::string w2 = peer.ok({{"op", "open"}, {"name", name}, {"dir", "w"}})["handle"];
  owner.ok({{"op", "close"}, {"handle", r}});
  json broken = peer.fails({{"op", "write"}, {"handle", w2}, {"data", b64("x")}}, "broken_pipe");
  EXPECT_EQ(broken.value("native", ""), "EPIPE");
  peer.ok({{"op", "hello"}});
}

// NPIPE_REQ: FIFO-OPEN-4 FIFO-OPEN-6 FIFO-OPEN-7 FIFO-CREATE-3 ERR-1
TEST(Agent, FifoErrorsUseThePortableVocabulary) {
  watchdog dog(30s, "agent FIFO errors");
  temp_dir dir;
  agent a;
  a.ok({{"op", "hello"}});
  a.fails({{"op", "open"}, {"name", dir.file("none")}, {"dir", "r"}}, "not_found");
  std::string o = a.ok({{"op", "create"}, {"name", dir.file("f")}, {"dir", "r"}})["handle"];
  a.fails({{"op", "create"}, {"name", dir.file("f")}, {"dir", "r"}}, "already_exists");
  a.fails({{"op", "open"}, {"name", dir.file("f")}, {"dir", "w"}, {"timeout_ms", 0}},
          "would_block");
  a.fails({{"op", "open"}, {"name", dir.file("f")}, {"dir", "w"}, {"timeout_ms", 50}}, "timeout");
  a.fails({{"op", "open"}, {"name", dir.path()}, {"dir", "r"}}, "not_a_pipe");
  a.ok({{"op", "remove"}, {"handle", o}});
  EXPECT_FALSE(exists(dir.file("f")));
  a.fails({{"op", "open"}, {"name", dir.file("f")}, {"dir", "w"}}, "not_found");
}

// ---- Channel profile ----------------------------------------------------------------------------

// NPIPE_REQ: CHAN-ACCEPT-1 CHAN-AUTH-5 CHAN-FRAME-3 CHAN-RECV-1 CHAN-RECV-2 CHAN-LISTEN-5
TEST(Agent, ChannelBetweenTwoAgentsWithAKey) {
  watchdog dog(60s, "agent channel round trip");
  temp_dir dir;
  std::string address = dir.file("sock");
  agent server, client;
  server.ok({{"op", "hello"}});
  client.ok({{"op", "hello"}});
  std::string key = b64("key");
  std::string l = server.ok({{"op", "listen"}, {"address", address}, {"authkey", key}})["handle"];
  server.fails({{"op", "accept"}, {"handle", l}, {"timeout_ms", 50}}, "timeout");

  server.send({{"op", "accept"}, {"handle", l}});
  ASSERT_TRUE(npipe::test::wait_until_blocked(server.pid(), 10s)) << "accept did not block";
  std::string c = client.ok(
      {{"op", "connect"}, {"address", address}, {"authkey", key}, {"challenge", "md5"}})["handle"];
  std::string s = server.reply()["handle"];

  EXPECT_EQ(client.ok({{"op", "send"}, {"handle", c}, {"data", b64("")}})["sent"], 0);
  EXPECT_EQ(client.ok({{"op", "send"}, {"handle", c}, {"data", b64("one")}})["sent"], 3);
  EXPECT_EQ(
      client.ok(
          {{"op", "send"}, {"handle", c}, {"pattern", {{"size", 100000}, {"seed", 3}}}})["sent"],
      100000);
  EXPECT_EQ(server.ok({{"op", "recv"}, {"handle", s}})["data"], "");
  EXPECT_EQ(server.ok({{"op", "recv"}, {"handle", s}})["data"], b64("one"));
  json digest = server.ok({{"op", "recv"}, {"handle", s}, {"digest", true}});
  EXPECT_EQ(digest["size"], 100000);
  EXPECT_EQ(digest["sha256"], pattern_sha256(100000, 3));
  // A send with a deadline (CHAN-SEND-1) that has room goes like any other.
  EXPECT_EQ(
      client.ok({{"op", "send"}, {"handle", c}, {"data", b64("x")}, {"timeout_ms", 1000}})["sent"],
      1);
  EXPECT_EQ(server.ok({{"op", "recv"}, {"handle", s}})["data"], b64("x"));

  // Too long for max: refused, and the connection is then write-only (CHAN-RECV-2).
  client.ok({{"op", "send"}, {"handle", c}, {"data", b64("0123456789")}});
  server.fails({{"op", "recv"}, {"handle", s}, {"max", 4}}, "message_too_long");
  EXPECT_EQ(server.ok({{"op", "send"}, {"handle", s}, {"data", b64("back")}})["sent"], 4);
  EXPECT_EQ(client.ok({{"op", "recv"}, {"handle", c}})["data"], b64("back"));
  client.ok({{"op", "close"}, {"handle", c}});

  // A wrong key: both sides fail, neither hangs, the listener serves on.
  server.send({{"op", "accept"}, {"handle", l}});
  client.fails({{"op", "connect"}, {"address", address}, {"authkey", b64("other")}}, "auth_failed");
  json refused = server.reply();
  EXPECT_EQ(refused.value("error", ""), "auth_failed") << refused.dump();

  server.ok({{"op", "close"}, {"handle", l}});
  EXPECT_FALSE(exists(address)) << "closing a listener must remove its socket file";
  client.fails({{"op", "connect"}, {"address", address}}, "not_found");
}

// ---- ending -------------------------------------------------------------------------------------

// NPIPE_REQ: FIFO-LIFE-4 FIFO-LIFE-6 CHAN-LISTEN-5
TEST(Agent, EofOnStdinClosesEverythingAndExitsZero) {
  watchdog dog(30s, "agent stdin EOF");
  temp_dir dir;
  agent a;
  a.ok({{"op", "hello"}});
  a.ok({{"op", "create"}, {"name", dir.file("owned")}, {"dir", "r"}});
  std::string kept = a.ok({{"op", "create"}, {"name", dir.file("kept")}, {"dir", "w"}})["handle"];
  a.ok({{"op", "release"}, {"handle", kept}});
  a.ok({{"op", "listen"}, {"address", dir.file("sock")}});
  ASSERT_TRUE(exists(dir.file("owned")) && exists(dir.file("sock")));
  a.proc().close_stdin();
  EXPECT_EQ(a.proc().read_stdout_until_eof(kReplyLimit), "") << "nothing may follow the replies";
  EXPECT_EQ(a.proc().wait(kReplyLimit), 0);
  EXPECT_FALSE(exists(dir.file("owned"))) << "an owner's name outlived the agent";
  EXPECT_FALSE(exists(dir.file("sock"))) << "a listener's socket file outlived the agent";
  EXPECT_TRUE(exists(dir.file("kept"))) << "a released name was removed";
}

// NPIPE_REQ: FIFO-LIFE-4
TEST(Agent, ByeRepliesClosesEverythingAndExitsZero) {
  watchdog dog(30s, "agent bye");
  temp_dir dir;
  agent a;
  a.ok({{"op", "hello"}});
  a.ok({{"op", "create"}, {"name", dir.file("owned")}, {"dir", "w"}});
  a.ok({{"op", "bye"}});
  EXPECT_FALSE(exists(dir.file("owned"))) << "bye replied before the owner removed its name";
  EXPECT_EQ(a.proc().wait(kReplyLimit), 0);
}

// Runs the agent with stdout a pipe whose read end is closed, SIGPIPE at its default.
NPIPE_TEST_CHILD(agent_closed_stdout) {
  int p[2];
  if (::pipe(p) != 0) return 120;
  ::close(p[0]);
  ::dup2(p[1], STDOUT_FILENO);
  ::close(p[1]);
  std::string path = npipe::test::agent_path();
  char* argv[] = {&path[0], nullptr};
  ::execv(argv[0], argv);
  return 121;
}

// NPIPE_REQ: FIFO-PIPE-1
TEST(Agent, AGoneDriverIsNotDeathBySigpipe) {
  watchdog dog(30s, "agent with a closed stdout");
  process p = process::spawn_self("agent_closed_stdout");
  p.write_stdin("{\"id\":1,\"op\":\"hello\"}\n");
  auto status = p.wait(kReplyLimit);
  ASSERT_TRUE(status.has_value()) << "the agent did not exit when its stdout broke";
  EXPECT_LT(*status, 128) << "killed by signal " << *status - 128;
  EXPECT_NE(*status, 0) << "a broken stdout is a failure";
}

}  // namespace

#endif  // _WIN32
