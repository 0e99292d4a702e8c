// npipe-agent/line_reader.hpp: splits the agent's stdin into command lines (section 1), with a
// bound on a line's length so that a runaway driver cannot exhaust memory.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace npipe::agent {

class line_reader {
 public:
  // `read` fills up to n bytes and returns how many, 0 at EOF.
  using read_fn = std::function<std::size_t(void* buf, std::size_t n)>;
  enum class result { line, too_long, eof };

  explicit line_reader(read_fn read, std::size_t max_line = 64u << 20)
      : read_(std::move(read)), max_line_(max_line) {}

  // The next line without its "\n" (nor a "\r" before it). A last line without "\n" still
  // counts. too_long: the line passed max_line and was skipped up to its end.
  result next(std::string& line);

 private:
  read_fn read_;
  std::size_t max_line_;
  std::string buffer_;
  std::size_t scanned_ = 0;  // bytes of buffer_ known to hold no "\n"
  bool eof_ = false;
};

}  // namespace npipe::agent
