// The portable error vocabulary: names, the std::error_category, and npipe::error.
#include "npipe/error.hpp"

#include <array>
#include <type_traits>

namespace npipe {
namespace {

constexpr std::array<const char*, 14> kNames = {
    "",  // 0 is not an error
    "not_found",
    "already_exists",
    "timeout",
    "would_block",
    "broken_pipe",
    "not_a_pipe",
    "permission_denied",
    "invalid_name",
    "message_too_long",
    "auth_failed",
    "unsupported",
    "protocol_error",
    "io_error",
};

// The std::errc conditions each portable error is equivalent to (error.hpp, category()), in a
// row of the table by the error's value; std::errc{} ends a row.
constexpr std::errc kNone{};
constexpr std::errc kEquivalents[14][4] = {
    {kNone},
    {std::errc::no_such_file_or_directory, kNone},  // not_found
    {std::errc::file_exists, kNone},                // already_exists
    {std::errc::timed_out, kNone},                  // timeout
    {std::errc::operation_would_block, std::errc::resource_unavailable_try_again, kNone},
    {std::errc::broken_pipe, kNone},  // broken_pipe
    {kNone},                          // not_a_pipe
    {std::errc::permission_denied, std::errc::operation_not_permitted, kNone},
    {std::errc::invalid_argument, std::errc::filename_too_long, kNone},  // invalid_name
    {std::errc::message_size, kNone},                                    // message_too_long
    {kNone},                                                             // auth_failed
    {std::errc::not_supported, std::errc::operation_not_supported,
     std::errc::function_not_supported, kNone},  // unsupported
    {std::errc::protocol_error, kNone},          // protocol_error
    {std::errc::io_error, kNone},                // io_error
};

const std::errc* equivalents(int value) noexcept {
  if (value <= 0 || value >= static_cast<int>(kNames.size())) return kEquivalents[0];
  return kEquivalents[value];
}

class npipe_category : public std::error_category {
 public:
  const char* name() const noexcept override { return "npipe"; }
  std::string message(int value) const override {
    if (value <= 0 || value >= static_cast<int>(kNames.size())) return "unknown npipe error";
    return kNames[static_cast<std::size_t>(value)];
  }
  // The first equivalent, so that std::error_code::default_error_condition() is a std::errc one.
  std::error_condition default_error_condition(int value) const noexcept override {
    const std::errc first = equivalents(value)[0];
    if (first != kNone) return std::make_error_condition(first);
    return std::error_condition(value, *this);
  }
  bool equivalent(int value, const std::error_condition& cond) const noexcept override {
    if (cond.category() == *this) return cond.value() == value;
    if (cond.category() != std::generic_category()) return false;
    for (const std::errc* e = equivalents(value); *e != kNone; ++e) {
      if (cond.value() == static_cast<int>(*e)) return true;
    }
    return false;
  }
};

}  // namespace

const std::error_category& category() noexcept {
  static const npipe_category instance;
  return instance;
}

std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), category()};
}

const char* errc_name(errc e) noexcept {
  auto i = static_cast<std::size_t>(e);
  return i > 0 && i < kNames.size() ? kNames[i] : "unknown";
}

bool errc_from_name(std::string_view name, errc& out) noexcept {
  for (std::size_t i = 1; i < kNames.size(); ++i) {
    if (name == kNames[i]) {
      out = static_cast<errc>(i);
      return true;
    }
  }
  return false;
}

struct error::details {
  int native;
  std::string native_name;
  std::string message;
  std::string what;
};

error::error(errc code, const std::string& message, int native, std::string native_name)
    : std::system_error(make_error_code(code), message),
      details_(
          std::make_shared<const details>(details{native, std::move(native_name), message,
                                                  std::string(errc_name(code)) + ": " + message})) {
}

int error::native() const noexcept {
  return details_->native;
}
const std::string& error::native_name() const noexcept {
  return details_->native_name;
}
const std::string& error::message() const noexcept {
  return details_->message;
}
const char* error::what() const noexcept {
  return details_->what.c_str();
}

static_assert(std::is_nothrow_copy_constructible<error>::value,
              "an exception type must not throw when copied");
static_assert(std::is_nothrow_copy_assignable<error>::value,
              "an exception type must not throw when copied");

}  // namespace npipe
