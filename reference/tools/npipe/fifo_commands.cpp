// npipe/fifo_commands.cpp: mkfifo, read and write: the FIFO profile from the shell.
#include <optional>
#include <vector>

#include "commands.hpp"
#include "common/console.hpp"
#include "npipe/error.hpp"
#include "npipe/fifo.hpp"
#include "options.hpp"

namespace npipe::cli {
namespace {

// The copy loops' buffer: the default Linux pipe capacity, so one read can drain a full pipe.
constexpr std::size_t kCopyBuffer = 64 * 1024;

const std::vector<option_spec> kEndOptions = {
    {"--create", false}, {"--adopt", false}, {"--mode", true}, {"--timeout", true}};

// Opens the end `dir` of PATH as read and write describe: as the owner with --create or --adopt
// (then `owner` holds the name, removed when it is destroyed), else as a peer.
npipe::fifo_end open_end(const words& args, npipe::direction dir,
                         std::optional<npipe::fifo_owner>& owner) {
  parsed_args a = parse_args(args, kEndOptions);
  expect_positional(a, 1, "PATH");
  auto timeout = parse_timeout(a);
  bool own = a.has("--create") || a.has("--adopt");
  if (!own && a.has("--mode")) throw usage_error("--mode needs --create or --adopt");
  if (!own) return npipe::open_fifo(a.positional[0], dir, deadline_from(timeout));

  npipe::fifo_options opts;
  opts.mode = parse_mode(a, opts.mode);
  opts.adopt_existing = a.has("--adopt");
  owner = npipe::fifo_owner::create(a.positional[0], dir, opts);
  tools::remove_on_interrupt(owner->path());
  return owner->open(deadline_from(timeout));
}

// The owner's name goes before the exit status is decided: a failure to remove it is reported.
void remove_name(std::optional<npipe::fifo_owner>& owner) {
  if (!owner) return;
  owner->remove();
  tools::keep_on_interrupt();
}

}  // namespace

int run_mkfifo(const words& args) {
  parsed_args a = parse_args(args, {{"--mode", true}});
  expect_positional(a, 1, "PATH");
  npipe::fifo_options opts;
  opts.mode = parse_mode(a, opts.mode);
#ifdef _WIN32
  // A Windows pipe name exists only while a server holds it: there is nothing to leave behind.
  throw npipe::error(npipe::errc::unsupported,
                     "mkfifo: a Windows pipe name lives only while its owner runs; use 'npipe read "
                     "--create' or 'npipe write --create'");
#else
  npipe::fifo_owner owner =
      npipe::fifo_owner::create(a.positional[0], npipe::direction::read, opts);
  owner.release();  // the name outlives this process, as mkfifo(1) does (FIFO-LIFE-1)
  return 0;
#endif
}

int run_read(const words& args) {
  std::optional<npipe::fifo_owner> owner;
  npipe::fifo_end end = open_end(args, npipe::direction::read, owner);
  std::vector<char> buf(kCopyBuffer);
  for (;;) {
    std::size_t n = end.read(buf.data(), buf.size());
    if (n == 0) break;
    tools::write_stdout(buf.data(), n);
  }
  end.close();
  remove_name(owner);
  return 0;
}

int run_write(const words& args) {
  std::optional<npipe::fifo_owner> owner;
  npipe::fifo_end end = open_end(args, npipe::direction::write, owner);
  std::vector<char> buf(kCopyBuffer);
  for (;;) {
    std::size_t n = tools::read_stdin(buf.data(), buf.size());
    if (n == 0) break;
    end.write_all(buf.data(), n);  // everything read is written, or the command fails
  }
  end.close();
  remove_name(owner);
  return 0;
}

}  // namespace npipe::cli
