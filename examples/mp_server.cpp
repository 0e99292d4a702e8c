// mp_server: a C++ server for Python's multiprocessing.connection clients. Speaks CPython's wire
// format and HMAC handshake (both the 3.12+ {sha256} form and the older MD5 one), so a client
// needs only the standard library:
//
//   mp_server ADDRESS KEYFILE COUNT     # serves COUNT clients, one request each, then exits
//   python3 -c 'from multiprocessing.connection import Client
//   with Client("ADDRESS", authkey=open("KEYFILE","rb").read()) as c:
//       c.send_bytes(b"hello"); print(c.recv_bytes())'       # b'HELLO'
//
// Each client's handshake runs on its own thread (accept_unauthenticated + authenticate), so a
// client that connects and says nothing delays only itself (CHAN-AUTH-13). A client's peer
// credentials come from the system (SO_PEERCRED; GetNamedPipeClientProcessId on Windows).
#include <npipe/npipe.hpp>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

std::mutex out_mutex;

void serve(npipe::connection c) {
  using namespace std::chrono_literals;
  std::error_code ec;
  c.authenticate(npipe::deadline::after(10s), ec);  // the listener's handshake_timeout caps it
  if (ec) {
    std::lock_guard<std::mutex> lock(out_mutex);
    std::printf("refused a client: %s\n", ec.message().c_str());
    return;
  }
  const npipe::peer_credentials who = c.peer(ec);
  std::optional<npipe::bytes> request = c.recv_bytes(1 << 20, npipe::deadline::after(10s), ec);
  if (!request) {
    std::lock_guard<std::mutex> lock(out_mutex);
    std::printf("client left without a request (%s)\n", ec ? ec.message().c_str() : "EOF");
    return;
  }
  std::string reply(request->begin(), request->end());
  for (char& ch : reply)
    ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  c.send_bytes(reply.data(), reply.size(), npipe::deadline::after(10s), ec);
  std::lock_guard<std::mutex> lock(out_mutex);
  std::printf("served pid %lld: %zu bytes%s\n", who.pid, reply.size(),
              ec ? (" (reply failed: " + ec.message() + ")").c_str() : "");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: mp_server ADDRESS KEYFILE COUNT\n");
    return 2;
  }
  try {
    std::ifstream keyfile(argv[2], std::ios::binary);
    npipe::listener_options opts;
    opts.authkey = std::string(std::istreambuf_iterator<char>(keyfile), {});  // exact bytes
    npipe::listener l = npipe::listener::listen(argv[1], opts);
    std::printf("ready\n");
    std::fflush(stdout);
    std::vector<std::thread> workers;
    for (int i = 0, count = std::stoi(argv[3]); i < count; ++i) {
      workers.emplace_back(serve, l.accept_unauthenticated());
    }
    for (auto& t : workers)
      t.join();
    std::printf("done\n");
    return 0;
  } catch (const npipe::error& e) {
    std::fprintf(stderr, "mp_server: %s\n", e.what());
    return 1;
  }
}
