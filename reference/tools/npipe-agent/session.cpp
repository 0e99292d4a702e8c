// npipe-agent/session.cpp: the handle table, the dispatch of ops, and replies (success and the
// error form of spec/driver-protocol.md, section 2).
#include "session.hpp"

#include <array>
#include <exception>
#include <new>
#include <utility>

#include "npipe/error.hpp"

namespace npipe::agent {
namespace {

struct op_entry {
  const char* name;
  op_fn fn;
};

// The ops of protocol v1, in the order hello lists them.
constexpr std::array<op_entry, 14> kOps = {{
    {"hello", op_hello},
    {"create", op_create},
    {"open", op_open},
    {"read", op_read},
    {"write", op_write},
    {"remove", op_remove},
    {"release", op_release},
    {"close", op_close},
    {"listen", op_listen},
    {"accept", op_accept},
    {"connect", op_connect},
    {"send", op_send},
    {"recv", op_recv},
    {"spawn", op_spawn},
}};

constexpr const char* kBye = "bye";

nlohmann::json error_reply(const nlohmann::json& id, npipe::errc code, const std::string& message,
                           const std::string& native) {
  nlohmann::json reply = {{"id", id}, {"ok", false}, {"error", npipe::errc_name(code)}};
  if (!native.empty()) reply["native"] = native;
  if (!message.empty()) reply["message"] = message;
  return reply;
}

char kind_letter(const object& obj) {
  static constexpr char letters[] = {'o', 'h', 'l', 'c', 'p'};
  return letters[obj.index()];
}

}  // namespace

const char* kind_name(const object& obj) {
  static constexpr const char* names[] = {"a FIFO owner", "a FIFO end", "a listener",
                                          "a connection", "a child process"};
  return names[obj.index()];
}

nlohmann::json ops_list() {
  nlohmann::json ops = nlohmann::json::array();
  for (const auto& e : kOps)
    ops.push_back(e.name);
  ops.push_back(kBye);
  return ops;
}

std::string protocol_error_reply(const std::string& message) {
  return error_reply(nullptr, npipe::errc::protocol_error, message, "").dump();
}

std::string session::execute(std::string_view line, bool& bye) {
  request r(line);
  nlohmann::json reply = {{"id", r.id()}, {"ok", true}};
  try {
    r.check();
    if (r.op() == kBye) {
      close_all();  // everything is closed when the reply arrives
      bye = true;
    } else {
      const op_entry* entry = nullptr;
      for (const auto& e : kOps) {
        if (r.op() == e.name) entry = &e;
      }
      if (!entry) {
        throw npipe::error(npipe::errc::unsupported, "op '" + r.op() + "' is not implemented");
      }
      entry->fn(*this, r, reply);
    }
  } catch (const npipe::error& e) {
    // An op may leave partial results in the reply (write's "written"): they are kept.
    nlohmann::json err = error_reply(r.id(), e.value(), e.message(), e.native_name());
    for (const char* keep : {"written"}) {
      if (reply.contains(keep)) err[keep] = reply[keep];
    }
    reply = std::move(err);
  } catch (const std::bad_alloc&) {
    reply = error_reply(r.id(), npipe::errc::io_error, "out of memory", "");
  } catch (const std::exception& e) {
    reply = error_reply(r.id(), npipe::errc::io_error, e.what(), "");
  }
  // Messages can hold bytes of paths that are not UTF-8: they are replaced, never fatal.
  return reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void session::close_all() noexcept {
  // Two passes: first what carries data, then what holds names, so no peer sees a name vanish
  // before its data ends.
  for (int pass = 0; pass < 2; ++pass) {
    for (auto it = handles_.begin(); it != handles_.end();) {
      bool holds_name = std::holds_alternative<npipe::fifo_owner>(it->second) ||
                        std::holds_alternative<npipe::listener>(it->second);
      if (holds_name == (pass == 1)) {
        it = handles_.erase(it);  // destructors close, and owners remove their names
      } else {
        ++it;
      }
    }
  }
}

std::string session::add(object obj) {
  std::string handle = kind_letter(obj) + std::to_string(++counter_);
  handles_.emplace(handle, std::move(obj));
  return handle;
}

object session::take(const request& r, const char* field) {
  auto it = handles_.find(r.string_field(field));
  object obj = std::move(find(r, field));
  handles_.erase(it);
  return obj;
}

object& session::find(const request& r, const char* field) {
  std::string handle = r.string_field(field);
  auto it = handles_.find(handle);
  if (it == handles_.end()) bad_field(field, "no open handle '" + handle + "'");
  return it->second;
}

}  // namespace npipe::agent
