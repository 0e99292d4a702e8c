// The authentication handshake of Python's multiprocessing.connection (spec: CHAN-AUTH-1..8),
// written against a tiny message transport so the POSIX backend (length-framed socket) and the
// Windows backend (message-mode pipe) share it unchanged.
//
// Exactly as CPython 3.12+: the listener runs deliver_challenge() then answer_challenge(); the
// client runs answer_challenge() then deliver_challenge(). Every receive is limited to 256 bytes.
//   challenger -> "#CHALLENGE#" + M      M = "{sha256}" + 40 random bytes (3.12+ form), or
//                                          M = 20 random bytes (<= 3.11 legacy form)
//   responder  -> R                      R = raw 16-byte HMAC-MD5(key, M) when len(M) == 20,
//                                          else "{name}" + HMAC-name(key, M), M whole, prefix too
//   challenger -> "#WELCOME#" | "#FAILURE#"
// The key and the digests are never logged nor put into error messages.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "npipe/channel.hpp"
#include "npipe/deadline.hpp"

namespace npipe::handshake {

// One connection, seen as a sequence of whole messages.
class message_transport {
 public:
  virtual ~message_transport() = default;
  // Sends one whole message. Throws npipe::error (broken_pipe, ...).
  virtual void send_message(const std::uint8_t* data, std::size_t n) = 0;
  // Receives one whole message of at most maxlength bytes before `d`. std::nullopt when the peer
  // closed on a message boundary. Throws npipe::error: message_too_long (without reading the
  // message), timeout, protocol_error, broken_pipe, ...
  virtual std::optional<std::vector<std::uint8_t>> receive_message(std::size_t maxlength,
                                                                   deadline d) = 0;
};

// The listener's half of the handshake that a connection from listener::accept_unauthenticated()
// still owes; connection::authenticate() runs it.
struct owed_listener_handshake {
  std::string key;
  challenge_form form;
  std::chrono::milliseconds timeout;
};

// The deadline of a whole handshake: `limit` (handshake_timeout) from now, or the caller's
// deadline when that is a point in time that comes first.
deadline handshake_deadline(std::chrono::milliseconds limit, deadline outer);

// Throws io_error naming `op` while `owed` holds a handshake: a connection from
// accept_unauthenticated() carries nothing before authenticate() (CHAN-AUTH-13).
void check_nothing_owed(const std::optional<owed_listener_handshake>& owed, const char* op);

// connection::authenticate() of both backends: runs the owed handshake, if any, over `t` by `d`
// (cut short by its timeout) and clears it. Throws what listener_handshake throws; the caller
// then closes the connection.
void run_owed(message_transport& t, std::optional<owed_listener_handshake>& owed, deadline d);

// The limit CPython puts on every handshake message ("reject large message").
constexpr std::size_t max_message_size = 256;

// Sends a challenge of the given form, checks the answer, and sends #WELCOME# or #FAILURE#.
// Throws npipe::error: auth_failed (wrong, malformed or oversized answer, peer gone), timeout.
void deliver_challenge(message_transport& t, std::string_view key, challenge_form form, deadline d);

// Answers the peer's challenge, whatever its form, and waits for #WELCOME#.
// Throws npipe::error: auth_failed (malformed challenge, unknown digest, rejected), timeout.
void answer_challenge(message_transport& t, std::string_view key, deadline d);

// The listener's whole handshake: deliver_challenge, then answer_challenge (CHAN-AUTH-1).
void listener_handshake(message_transport& t, std::string_view key, challenge_form form,
                        deadline d);

// The client's whole handshake: answer_challenge, then deliver_challenge (CHAN-AUTH-1), with our
// challenge sent right behind our answer rather than after the #WELCOME# (one round trip less;
// the bytes on the wire are the same). Throws what the two steps throw.
void client_handshake(message_transport& t, std::string_view key, challenge_form form, deadline d);

// --- The pieces, exposed for tests ---

// What the responder sends for the challenge message M (the bytes after "#CHALLENGE#").
// Throws auth_failed when M is shorter than 20 bytes or names no allowed digest.
std::vector<std::uint8_t> make_response(std::string_view key, const std::vector<std::uint8_t>& m);

// Checks `response` as an answer to the challenge message M under key, by the rules of CPython
// 3.12+'s _verify_challenge (raw 16-byte MD5, or "{name}" + MAC for an allowed name). Returns
// std::nullopt when it is valid, else why not (never containing the key or a digest).
std::optional<std::string> response_problem(std::string_view key,
                                            const std::vector<std::uint8_t>& m,
                                            const std::vector<std::uint8_t>& response);

}  // namespace npipe::handshake
