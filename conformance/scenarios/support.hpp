// support.hpp: small helpers the scenarios share: payload encoding, the usual FIFO set-ups, and
// the driver's own look at the file system.
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "scenario.hpp"

namespace npipe::conformance::support {

// Base64 of the bytes, for "data".
std::string b64(std::string_view bytes);
// The bytes of a reply's "data"; a reply without valid base64 fails the scenario.
std::string data_of(scene& s, const json& reply);
// {"size":N,"seed":S} and its expected digest, computed by the driver.
json pattern(std::size_t size, unsigned seed);
std::string pattern_bytes(std::size_t size, unsigned seed);
std::string pattern_sha256(std::size_t size, unsigned seed, std::size_t repeat = 1);
std::string sha256_hex(std::string_view bytes);

// The handle named in a reply, or a failure.
std::string handle_of(scene& s, const json& reply);

// The owner creates `name` and will hold end `owner_dir`; returns the owner handle.
std::string create(scene& s, actor& owner, const std::string& path, const std::string& owner_dir,
                   json extra = json::object());

struct fifo_pair {
  std::string owner;      // owner handle
  std::string owner_end;  // the owner's open end
  std::string peer_end;   // the peer's open end
};
// Owner creates `path` holding `owner_dir`, both sides open (owner first, blocking); the usual
// start of a data scenario.
fifo_pair open_pair(scene& s, actor& owner, actor& peer, const std::string& path,
                    const std::string& owner_dir);

// Reads until EOF (with max-sized reads); fails if more than `limit` bytes arrive.
std::string read_to_eof(scene& s, actor& reader, const std::string& handle,
                        std::size_t limit = 1 << 24);
// Reads until exactly n bytes have arrived (no EOF expected in between).
std::string read_exactly(scene& s, actor& reader, const std::string& handle, std::size_t n);

// lstat of a path: nullopt when it does not exist.
std::optional<struct stat> lstat_of(const std::string& path);
std::string file_content(const std::string& path);
// Time since `t`, in milliseconds.
long ms_since(std::chrono::steady_clock::time_point t);

// The atomic write size the scenario may count on for the agent's platform.
std::size_t pipe_buf_for(const std::string& platform);

}  // namespace npipe::conformance::support
