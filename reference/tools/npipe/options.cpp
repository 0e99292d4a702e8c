// npipe/options.cpp: parsing of the CLI's options (see options.hpp for the grammar).
#include "options.hpp"

#include <cmath>
#include <fstream>
#include <iterator>

namespace npipe::cli {
namespace {

// Longer keys than this are not keys but a mistake (--authkey-file /dev/zero).
constexpr std::size_t kMaxAuthkeyBytes = 1 << 20;
// A timeout beyond a year is a typo, and would overflow some platforms' wait calls.
constexpr double kMaxTimeoutSeconds = 365.0 * 24 * 3600;

const option_spec* find_spec(const std::vector<option_spec>& allowed, const std::string& name) {
  for (const auto& s : allowed) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

bool all_digits(const std::string& s, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> parsed_args::value(const std::string& name) const {
  auto it = options.find(name);
  if (it == options.end()) return std::nullopt;
  return it->second;
}

parsed_args parse_args(const std::vector<std::string>& args,
                       const std::vector<option_spec>& allowed) {
  parsed_args out;
  bool options_ended = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (options_ended || word.size() < 2 || word[0] != '-') {
      out.positional.push_back(word);  // "-" alone is an ordinary argument
      continue;
    }
    if (word == "--") {
      options_ended = true;
      continue;
    }
    std::string name = word;
    std::optional<std::string> inline_value;
    if (auto eq = word.find('='); eq != std::string::npos) {
      name = word.substr(0, eq);
      inline_value = word.substr(eq + 1);
    }
    const option_spec* spec = find_spec(allowed, name);
    if (!spec) throw usage_error("unknown option '" + name + "'");
    if (out.has(name)) throw usage_error("option '" + name + "' given twice");
    if (!spec->takes_value) {
      if (inline_value) throw usage_error("option '" + name + "' takes no value");
      out.options[name] = "";
    } else if (inline_value) {
      out.options[name] = *inline_value;
    } else {
      if (i + 1 >= args.size()) throw usage_error("option '" + name + "' needs a value");
      out.options[name] = args[++i];
    }
  }
  return out;
}

void expect_positional(const parsed_args& a, std::size_t count, const char* names) {
  if (a.positional.size() < count) throw usage_error(std::string("missing ") + names);
  if (a.positional.size() > count) {
    throw usage_error("unexpected argument '" + a.positional[count] + "' (expected " + names + ")");
  }
}

std::optional<std::chrono::milliseconds> parse_timeout(const parsed_args& a) {
  auto text = a.value("--timeout");
  if (!text) return std::nullopt;
  // Digits with an optional fraction; no sign, exponent, "inf" or "nan", whatever strtod allows.
  const std::string& s = *text;
  auto dot = s.find('.');
  std::size_t int_end = dot == std::string::npos ? s.size() : dot;
  bool ok = !s.empty() && s != "." && all_digits(s, 0, int_end) &&
            (dot == std::string::npos || all_digits(s, dot + 1, s.size()));
  if (!ok) throw usage_error("--timeout '" + s + "': expected seconds, such as 5 or 0.25");
  double seconds = 0;
  double scale = 1;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == dot) continue;
    if (i < int_end) {
      seconds = seconds * 10 + (s[i] - '0');
    } else {
      scale /= 10;
      seconds += (s[i] - '0') * scale;
    }
    if (seconds > kMaxTimeoutSeconds) {
      throw usage_error("--timeout '" + s + "': more than a year");
    }
  }
  return std::chrono::milliseconds(static_cast<long long>(std::ceil(seconds * 1000)));
}

npipe::deadline deadline_from(std::optional<std::chrono::milliseconds> timeout) {
  if (!timeout) return npipe::deadline::forever();
  if (timeout->count() == 0) return npipe::deadline::immediate();
  return npipe::deadline::after(*timeout);
}

unsigned parse_mode(const parsed_args& a, unsigned fallback) {
  auto text = a.value("--mode");
  if (!text) return fallback;
  const std::string& s = *text;
  unsigned mode = 0;
  bool ok = !s.empty() && s.size() <= 5;
  for (char c : s) {
    if (c < '0' || c > '7') ok = false;
    mode = mode * 8 + static_cast<unsigned>(c - '0');
  }
  if (!ok || mode > 07777)
    throw usage_error("--mode '" + s + "': expected octal bits, such as 600");
  return mode;
}

npipe::auth_options parse_auth(const parsed_args& a) {
  npipe::auth_options auth;
  if (auto challenge = a.value("--challenge")) {
    if (*challenge == "sha256") {
      auth.challenge = npipe::challenge_form::sha256;
    } else if (*challenge == "md5") {
      auth.challenge = npipe::challenge_form::legacy_md5;
    } else {
      throw usage_error("--challenge '" + *challenge + "': expected sha256 or md5");
    }
  }
  if (auto file = a.value("--authkey-file")) {
    std::ifstream in(*file, std::ios::binary);
    if (!in) throw usage_error("--authkey-file '" + *file + "': cannot be read");
    std::string key;
    key.resize(kMaxAuthkeyBytes + 1);
    in.read(&key[0], static_cast<std::streamsize>(key.size()));
    if (in.bad()) throw usage_error("--authkey-file '" + *file + "': cannot be read");
    key.resize(static_cast<std::size_t>(in.gcount()));
    if (key.size() > kMaxAuthkeyBytes) {
      throw usage_error("--authkey-file '" + *file + "': larger than 1 MiB");
    }
    // Python accepts b'' as a key, but its listeners before 3.13 then skip the handshake while
    // its clients wait for it (gh-88118): a key nobody can rely on, so it is refused here.
    if (key.empty()) {
      throw usage_error("--authkey-file '" + *file +
                        "' is empty; an empty key is refused (omit the option for no handshake)");
    }
    auth.authkey = std::move(key);
  } else if (a.has("--challenge")) {
    throw usage_error("--challenge needs --authkey-file");
  }
  if (auto timeout = parse_timeout(a); timeout && timeout->count() > 0) {
    auth.handshake_timeout = *timeout;  // the handshake is part of what --timeout bounds
  }
  return auth;
}

}  // namespace npipe::cli
