// The portable error vocabulary: names, the std::error_category, and npipe::error.
#include "npipe/error.hpp"

#include <array>

namespace npipe {
namespace {

constexpr std::array<const char*, 14> kNames = {
    "",                 // 0 is not an error
    "not_found",        "already_exists", "timeout",        "would_block",
    "broken_pipe",      "not_a_pipe",     "permission_denied", "invalid_name",
    "message_too_long", "auth_failed",    "unsupported",    "protocol_error",
    "io_error",
};

class npipe_category : public std::error_category {
 public:
  const char* name() const noexcept override { return "npipe"; }
  std::string message(int value) const override {
    if (value <= 0 || value >= static_cast<int>(kNames.size())) return "unknown npipe error";
    return kNames[static_cast<std::size_t>(value)];
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

error::error(errc code, const std::string& message, int native, std::string native_name)
    : std::system_error(make_error_code(code), message),
      native_(native),
      native_name_(std::move(native_name)),
      message_(message),
      what_(std::string(errc_name(code)) + ": " + message) {}

}  // namespace npipe
