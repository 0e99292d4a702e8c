// raw_peer.hpp: the driver itself as the other end of an AF_UNIX channel (POSIX wire checks).
//
// Some requirements are about bytes on the wire (framing, the handshake, EOF inside a frame):
// the only trustworthy judge is a peer that is not an implementation at all. Every call here
// has a deadline; every descriptor belongs to the scene, so the watchdog can shut it down.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "scenario.hpp"

namespace npipe::conformance::raw {

using std::chrono::milliseconds;

// Connects to the socket at `path`, retrying while it does not exist yet, until `limit`.
int connect(scene& s, const std::string& path, milliseconds limit);
// A listening socket at `path` made by the driver (the file is marked driver-made).
int listen(scene& s, const std::string& path);
int accept(scene& s, int listener, milliseconds limit);
// A listening socket at `path` whose accept queue (backlog 0) the driver fills with connections
// it never accepts, until a non-blocking connect fails EAGAIN: the next client finds it busy.
// Returns the listener; `queued` gets how many connections wait in its queue.
int listen_full(scene& s, const std::string& path, int& queued);

void send(scene& s, int fd, std::string_view bytes, milliseconds limit);
// Exactly n bytes, or nullopt at EOF (a short read before EOF is returned as nullopt too, with
// the bytes seen in *partial when given).
std::optional<std::string> recv_exact(scene& s, int fd, std::size_t n, milliseconds limit,
                                      std::string* partial = nullptr);
// True when the peer closed (EOF) within `limit`, with nothing more to read.
bool sees_eof(scene& s, int fd, milliseconds limit);

// Python's framing (CHAN-FRAME-1/2): 4-byte big-endian signed length, or -1 + 8-byte length.
std::string frame(std::string_view payload);
std::string escaped_frame(std::string_view payload);
std::string header32(std::int32_t n);
// One frame's payload; nullopt at EOF on a frame boundary. A wrong header fails the scenario.
std::optional<std::string> recv_frame(scene& s, int fd, milliseconds limit,
                                      std::uint32_t* header = nullptr);

// HMAC(key, msg) with the named digest ("md5", "sha256", "sha384", "sha3_256", ...), raw bytes.
std::string hmac(const std::string& digest, std::string_view key, std::string_view msg);
std::string random_bytes(std::size_t n);

}  // namespace npipe::conformance::raw
