// npipe-agent/line_reader.cpp: see line_reader.hpp. Reads only when no whole line is buffered,
// so the agent sits in a read of stdin only between commands (the driver's blocked-proof relies
// on it: spec/driver-protocol.md, section 6).
#include "line_reader.hpp"

namespace npipe::agent {

line_reader::result line_reader::next(std::string& line) {
  bool skipping = false;  // inside a line that is already too long
  for (;;) {
    auto nl = buffer_.find('\n', scanned_);
    if (nl != std::string::npos) {
      bool was_skipping = skipping;
      if (!was_skipping) {
        line.assign(buffer_, 0, nl);
        if (!line.empty() && line.back() == '\r') line.pop_back();
      }
      buffer_.erase(0, nl + 1);
      scanned_ = 0;
      if (was_skipping || line.size() > max_line_) return result::too_long;
      return result::line;
    }
    scanned_ = buffer_.size();
    if (scanned_ > max_line_) {
      skipping = true;
      buffer_.clear();
      scanned_ = 0;
    }
    if (eof_) {
      if (skipping) return result::too_long;
      if (buffer_.empty()) return result::eof;
      line.swap(buffer_);
      buffer_.clear();
      scanned_ = 0;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return result::line;
    }
    char chunk[64 * 1024];
    std::size_t n = read_(chunk, sizeof chunk);
    if (n == 0) {
      eof_ = true;
    } else {
      buffer_.append(chunk, n);
    }
  }
}

}  // namespace npipe::agent
