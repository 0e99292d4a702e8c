// Helpers shared by the Channel profile tests: error capture, byte conversions, and the child
// processes (NPIPE_TEST_CHILD) that play the other side of a channel.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "npipe/channel.hpp"
#include "npipe/error.hpp"

namespace npipe::chantest {

// The npipe error f throws; a test failure (and io_error) when it throws none.
inline errc error_of(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const npipe::error& e) {
    if (message) *message = e.what();
    return e.value();
  }
  ADD_FAILURE() << "no npipe::error was thrown";
  return errc::io_error;
}

inline std::string text(const std::optional<bytes>& b) {
  return b ? std::string(b->begin(), b->end()) : std::string("<EOF>");
}

// Child arguments cannot carry an absent key: "-" stands for "no authkey".
inline auth_options auth_from_arg(const std::string& key, const std::string& form = "sha256") {
  auth_options o;
  if (key != "-") o.authkey = key;
  o.challenge = form == "md5" ? challenge_form::legacy_md5 : challenge_form::sha256;
  o.handshake_timeout = std::chrono::milliseconds(5000);
  return o;
}

inline listener_options listener_from_arg(const std::string& key,
                                          const std::string& form = "sha256") {
  listener_options o;
  static_cast<auth_options&>(o) = auth_from_arg(key, form);
  return o;
}

}  // namespace npipe::chantest
