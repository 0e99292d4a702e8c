// npipe/error.hpp: the portable error vocabulary (spec/npipe.md, "Error model", ERR-*).
//
// Every failure of every npipe call is reported as one of these names, whatever the platform.
// The native code (errno or a Win32 error) is kept beside it, for messages only: portable code
// branches on npipe::errc, never on the native value.
#pragma once

#include <string>
#include <string_view>
#include <system_error>

namespace npipe {

// The values are stable: the CLI's exit status for an error is 9 + its value (spec ERR-3).
enum class errc {
  not_found = 1,
  already_exists = 2,
  timeout = 3,
  would_block = 4,
  broken_pipe = 5,
  not_a_pipe = 6,
  permission_denied = 7,
  invalid_name = 8,
  message_too_long = 9,
  auth_failed = 10,
  unsupported = 11,
  protocol_error = 12,
  io_error = 13,
};

// The std::error_category of npipe::errc; its name() is "npipe".
const std::error_category& category() noexcept;
std::error_code make_error_code(errc e) noexcept;

// The portable name of an error: "not_found", "already_exists", ... as used on the wire of the
// driver protocol, by the CLI and in reports.
const char* errc_name(errc e) noexcept;
// The inverse of errc_name; false when the name is not in the vocabulary.
bool errc_from_name(std::string_view name, errc& out) noexcept;

// The exception every npipe call throws. what() is "<portable name>: <message>".
class error : public std::system_error {
 public:
  // native: the errno or Win32 code behind the error (0 when there is none);
  // native_name: its symbolic name, for example "ENOENT" or "ERROR_PIPE_BUSY" ("" when none).
  error(errc code, const std::string& message, int native = 0, std::string native_name = {});

  errc value() const noexcept { return static_cast<errc>(code().value()); }
  int native() const noexcept { return native_; }
  const std::string& native_name() const noexcept { return native_name_; }
  // The message without the "<portable name>: " prefix.
  const std::string& message() const noexcept { return message_; }
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  int native_;
  std::string native_name_;
  std::string message_;
  std::string what_;
};

}  // namespace npipe

namespace std {
template <>
struct is_error_code_enum<npipe::errc> : true_type {};
}  // namespace std
