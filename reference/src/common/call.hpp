// The two forms of every public call (npipe/error.hpp), written once: the throwing form and the
// noexcept form with a trailing std::error_code&.
#pragma once

#include <new>
#include <string>
#include <system_error>
#include <utility>

#include "npipe/deadline.hpp"
#include "npipe/error.hpp"

namespace npipe::detail {

// would_block for deadline::immediate(), timeout for any other deadline that passed.
inline errc not_ready_code(const deadline& d) noexcept {
  return d.is_immediate() ? errc::would_block : errc::timeout;
}

// The exception for a call whose deadline passed first; `what` names the call and the path.
[[noreturn]] inline void throw_not_ready(const deadline& d, const std::string& what) {
  throw error(not_ready_code(d), what + (d.is_immediate() ? ": would block (non-blocking form)"
                                                          : ": the deadline passed"));
}

// The error_code form: ec is cleared, then `body()` runs; what it throws becomes ec and the
// call returns `failed`. `body` may set ec itself (for would_block and timeout, which it reports
// without throwing) and still return its value.
template <class T, class Body>
T with_error_code(std::error_code& ec, T failed, Body&& body) noexcept {
  ec.clear();
  try {
    return std::forward<Body>(body)();
  } catch (const npipe::error& e) {
    ec = e.code();
  } catch (const std::bad_alloc&) {
    ec = std::make_error_code(std::errc::not_enough_memory);
  } catch (const std::system_error& e) {  // std::thread, std::mutex
    ec = e.code();
  } catch (...) {
    ec = make_error_code(errc::io_error);
  }
  return failed;
}

// The same for a call that returns nothing.
template <class Body>
void with_error_code(std::error_code& ec, Body&& body) noexcept {
  with_error_code(ec, 0, [&] {
    std::forward<Body>(body)();
    return 0;
  });
}

}  // namespace npipe::detail
