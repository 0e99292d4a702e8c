// npipe/error.hpp: the portable error vocabulary (spec/npipe.md, "Error model", ERR-*), and the two
// ways npipe reports it.
//
// Every failure of every npipe call is reported as one of these names, whatever the platform.
// The native code (errno or a Win32 error) is kept beside it, for messages only: portable code
// branches on npipe::errc, never on the native value.
//
// Each operation comes in two forms, as in Asio and std::filesystem:
//   - without a trailing std::error_code&: failures throw npipe::error, whose what() names the
//     portable error, the call, the path and the native code;
//   - with a trailing std::error_code& ec: nothing is thrown (the overloads are noexcept); ec is
//     cleared on success and set on failure, and the return value is then the documented empty
//     one. would_block and timeout, the everyday outcomes of the non-blocking and deadline forms,
//     are reported there without any exception being made, even internally.
// An ec holds npipe::errc values (category() below), except when memory runs out
// (std::errc::not_enough_memory).
#pragma once

#include <memory>
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

// The std::error_category of npipe::errc; its name() is "npipe". Its codes are equivalent to the
// std::errc conditions of the same meaning, so that both tests hold for a broken pipe:
//   ec == npipe::errc::broken_pipe        ec == std::errc::broken_pipe
// not_found: no_such_file_or_directory. already_exists: file_exists. timeout: timed_out.
// would_block: operation_would_block, resource_unavailable_try_again. broken_pipe: broken_pipe.
// permission_denied: permission_denied, operation_not_permitted. invalid_name: invalid_argument,
// filename_too_long. message_too_long: message_size. unsupported: not_supported,
// operation_not_supported, function_not_supported. protocol_error: protocol_error. io_error:
// io_error. not_a_pipe and auth_failed have no std::errc counterpart.
const std::error_category& category() noexcept;
std::error_code make_error_code(errc e) noexcept;

// The portable name of an error: "not_found", "already_exists", ... as used on the wire of the
// driver protocol, by the CLI and in reports.
const char* errc_name(errc e) noexcept;
// The inverse of errc_name; false when the name is not in the vocabulary.
bool errc_from_name(std::string_view name, errc& out) noexcept;

// The exception every throwing npipe call throws. what() is "<portable name>: <message>".
// Copying it never throws (its text is shared, immutable), as an exception type must allow.
class error : public std::system_error {
 public:
  // native: the errno or Win32 code behind the error (0 when there is none);
  // native_name: its symbolic name, for example "ENOENT" or "ERROR_PIPE_BUSY" ("" when none).
  error(errc code, const std::string& message, int native = 0, std::string native_name = {});

  errc value() const noexcept { return static_cast<errc>(code().value()); }
  int native() const noexcept;
  const std::string& native_name() const noexcept;
  // The message without the "<portable name>: " prefix.
  const std::string& message() const noexcept;
  const char* what() const noexcept override;

 private:
  struct details;
  std::shared_ptr<const details> details_;
};

}  // namespace npipe

namespace std {
template <>
struct is_error_code_enum<npipe::errc> : true_type {};
}  // namespace std
