// npipe-agent/session.hpp: what one agent holds between commands (its handles), and the
// execution of one command into one reply.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "common/idle_child.hpp"
#include "npipe/channel.hpp"
#include "npipe/fifo.hpp"
#include "request.hpp"

namespace npipe::agent {

// Everything a handle can stand for. Handles are named by kind and a counter that never repeats:
// o1 (owner), h2 (FIFO end), l3 (listener), c4 (connection), p5 (child process of spawn).
using object = std::variant<npipe::fifo_owner, npipe::fifo_end, npipe::listener, npipe::connection,
                            npipe::tools::idle_child>;

class session {
 public:
  session() = default;
  session(const session&) = delete;
  session& operator=(const session&) = delete;
  ~session() { close_all(); }

  // Runs one command line and returns its reply (one JSON object, no newline). Sets `bye` when
  // the command was bye: the caller then exits.
  std::string execute(std::string_view line, bool& bye);

  // Closes every handle: ends and connections first, then owners (which remove their names)
  // and listeners (which remove their socket files).
  void close_all() noexcept;

  // For the ops: add an object under a fresh handle, find one by the command's "handle" field.
  std::string add(object obj);
  template <typename T>
  T& get(const request& r, const char* field = "handle");
  // Removes the command's handle from the table and hands its object over (for close).
  object take(const request& r, const char* field = "handle");

 private:
  object& find(const request& r, const char* field);
  std::map<std::string, object> handles_;
  std::uint64_t counter_ = 0;
};

// The reply fields of every op; `reply` starts as {"id":..,"ok":true}. Each throws npipe::error.
using op_fn = void (*)(session&, const request&, nlohmann::json& reply);
void op_hello(session&, const request&, nlohmann::json&);
void op_create(session&, const request&, nlohmann::json&);
void op_open(session&, const request&, nlohmann::json&);
void op_read(session&, const request&, nlohmann::json&);
void op_write(session&, const request&, nlohmann::json&);
void op_remove(session&, const request&, nlohmann::json&);
void op_release(session&, const request&, nlohmann::json&);
void op_close(session&, const request&, nlohmann::json&);
void op_listen(session&, const request&, nlohmann::json&);
void op_accept(session&, const request&, nlohmann::json&);
void op_connect(session&, const request&, nlohmann::json&);
void op_send(session&, const request&, nlohmann::json&);
void op_recv(session&, const request&, nlohmann::json&);
void op_spawn(session&, const request&, nlohmann::json&);

// The reply to a line that cannot even be parsed as a command (id null).
std::string protocol_error_reply(const std::string& message);

// The ops hello announces.
nlohmann::json ops_list();

// The name of the kind of object a handle holds, for messages ("a listener").
const char* kind_name(const object& obj);

template <typename T>
T& session::get(const request& r, const char* field) {
  object& obj = find(r, field);
  if (T* p = std::get_if<T>(&obj)) return *p;
  bad_field(field, r.string_field(field) + " is " + kind_name(obj) + ", which " + r.op() +
                       " does not take");
}

}  // namespace npipe::agent
