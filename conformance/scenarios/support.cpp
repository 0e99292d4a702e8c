// support.cpp: helpers shared by the scenarios (see support.hpp).
#include "support.hpp"

#include <fstream>
#include <sstream>
#include <vector>

#include "protocol/codec.hpp"

namespace npipe::conformance::support {

std::string b64(std::string_view bytes) {
  return npipe::protocol::base64_encode(bytes);
}

std::string data_of(scene& s, const json& reply) {
  if (!reply.contains("data") || !reply["data"].is_string())
    s.fail("reply has no \"data\": " + reply.dump().substr(0, 200));
  auto d = npipe::protocol::base64_decode(reply["data"].get<std::string>());
  if (!d) s.fail("reply \"data\" is not valid base64");
  return *d;
}

json pattern(std::size_t size, unsigned seed) {
  return {{"size", size}, {"seed", seed}};
}

std::string pattern_bytes(std::size_t size, unsigned seed) {
  std::string out(size, '\0');
  npipe::protocol::fill_pattern(reinterpret_cast<std::uint8_t*>(out.data()), size, seed);
  return out;
}

std::string pattern_sha256(std::size_t size, unsigned seed, std::size_t repeat) {
  npipe::protocol::sha256 h;
  std::vector<std::uint8_t> chunk(1 << 20);
  for (std::size_t r = 0; r < repeat; ++r)
    for (std::size_t off = 0; off < size; off += chunk.size()) {
      std::size_t n = std::min(chunk.size(), size - off);
      npipe::protocol::fill_pattern(chunk.data(), n, seed, off);
      h.update(chunk.data(), n);
    }
  return h.hex_digest();
}

std::string sha256_hex(std::string_view bytes) {
  npipe::protocol::sha256 h;
  h.update(bytes.data(), bytes.size());
  return h.hex_digest();
}

std::string handle_of(scene& s, const json& reply) {
  if (!reply.contains("handle") || !reply["handle"].is_string())
    s.fail("reply has no \"handle\": " + reply.dump().substr(0, 200));
  return reply["handle"].get<std::string>();
}

std::string create(scene& s, actor& owner, const std::string& path, const std::string& owner_dir,
                   json extra) {
  json cmd = {{"op", "create"}, {"name", path}, {"dir", owner_dir}};
  for (auto& [k, v] : extra.items())
    cmd[k] = v;
  return handle_of(s, owner.ok(cmd));
}

fifo_pair open_pair(scene& s, actor& owner, actor& peer, const std::string& path,
                    const std::string& owner_dir) {
  fifo_pair p;
  p.owner = create(s, owner, path, owner_dir);
  call open = owner.start({{"op", "open"}, {"owner", p.owner}, {"dir", owner_dir}});
  p.peer_end = handle_of(
      s, peer.ok({{"op", "open"}, {"name", path}, {"dir", owner_dir == "r" ? "w" : "r"}}));
  p.owner_end = handle_of(s, open.ok());
  return p;
}

std::string read_to_eof(scene& s, actor& reader, const std::string& handle, std::size_t limit) {
  std::string all;
  for (;;) {
    json r = reader.ok({{"op", "read"}, {"handle", handle}, {"max", 65536}});
    if (r.value("eof", false)) return all;
    std::string d = data_of(s, r);
    if (d.empty()) s.fail("a read returned no bytes without eof:true (EOF must be eof:true)");
    all += d;
    if (all.size() > limit) s.fail("more than " + std::to_string(limit) + " bytes before EOF");
  }
}

std::string read_exactly(scene& s, actor& reader, const std::string& handle, std::size_t n) {
  std::string all;
  while (all.size() < n) {
    json r = reader.ok({{"op", "read"}, {"handle", handle}, {"max", 65536}});
    if (r.value("eof", false))
      s.fail("EOF after " + std::to_string(all.size()) + " of " + std::to_string(n) + " bytes");
    std::string d = data_of(s, r);
    if (d.empty()) s.fail("a read returned no bytes without eof:true");
    all += d;
  }
  if (all.size() != n)
    s.fail("read " + std::to_string(all.size()) + " bytes where " + std::to_string(n) +
           " were written");
  return all;
}

std::string file_content(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

long ms_since(std::chrono::steady_clock::time_point t) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t)
          .count());
}

std::size_t pipe_buf_for(const std::string& platform) {
  // Linux's PIPE_BUF is 4096; POSIX only promises 512, so that is all other platforms get.
  return platform == "linux" ? 4096 : 512;
}

}  // namespace npipe::conformance::support
