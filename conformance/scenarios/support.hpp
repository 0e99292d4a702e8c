// support.hpp: small helpers the scenarios share: payload encoding, the usual FIFO set-ups, and
// the driver's own look at the file system.
#pragma once

#include <chrono>
#include <cstdint>
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

std::string file_content(const std::string& path);

// ---- The driver's own look at the file system, and what it makes there ----
// For scenarios that need a POSIX driver (needs::posix): the POSIX build implements these in
// scenarios/posix/files.cpp; a Windows driver (scenarios/win32/files.cpp) finds nothing at any
// path (Windows agents get pipe names, which are not files) and makes nothing: its make_*
// functions throw `skipped`, so a scenario reaching one is SKIP there, never FAIL.
enum class path_kind { fifo, socket, directory, file, symlink, other };
struct path_info {
  path_kind kind;
  unsigned mode;        // the permission bits (07777)
  unsigned uid;         // the owner
  std::uint64_t inode;  // with the device, which file it is (to tell a replaced one)
};
// lstat of a path (a symlink is not followed): nullopt when nothing is there.
std::optional<path_info> lstat_of(const std::string& path);
// Each makes its path (marked driver-made) or fails the scenario.
void make_fifo(scene& s, const std::string& path);       // mode 0600
void make_directory(scene& s, const std::string& path);  // mode 0700
void make_symlink(scene& s, const std::string& path, const std::string& target);
// An AF_UNIX socket file: bound and kept open by the scene (`listening` false: closed at once,
// leaving a stale socket file nobody listens on).
void make_socket_file(scene& s, const std::string& path, bool keep_open);
// Removes a name (unlink); nothing when it is not there.
void remove_name(const std::string& path);
// Keeps a FIFO open for reading (non-blocking, so it never waits) for the rest of the scene.
void hold_fifo_open(scene& s, const std::string& path);
// Whether the driver runs as root (only root can give a file to another user).
bool driver_is_root();
// Gives a path the driver made to another user, with this mode (chmod, then chown).
void give_to_user(scene& s, const std::string& path, unsigned uid, unsigned mode);
// Time since `t`, in milliseconds.
long ms_since(std::chrono::steady_clock::time_point t);

// The atomic write size the scenario may count on for the agent's platform.
std::size_t pipe_buf_for(const std::string& platform);

}  // namespace npipe::conformance::support
