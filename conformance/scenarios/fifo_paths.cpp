// fifo_paths.cpp: what is at the path: not a FIFO, a symlink, an existing name; permissions and
// names (spec/npipe.md, "FIFO profile: create", "FIFO profile: open", "Names").
#include <cstring>
#include <fstream>

#include "scenario.hpp"
#include "support.hpp"

namespace npipe::conformance {
namespace {

using namespace support;

// Every scenario here: files, FIFOs, sockets, devices and symlinks the driver makes at the path,
// modes under a umask, stat of the result.
const scenario_needs kFilesAtThePath =
    needs::posix("files, FIFOs and symlinks the driver makes at the path");

std::string make_file(scene& s, const std::string& leaf, const std::string& content) {
  std::string p = s.path(leaf);
  std::ofstream(p) << content;
  s.driver_made(p);
  return p;
}

std::string fifo_at(scene& s, const std::string& leaf) {
  std::string p = s.path(leaf);
  make_fifo(s, p);
  return p;
}

std::string symlink_at(scene& s, const std::string& leaf, const std::string& target) {
  std::string p = s.path(leaf);
  make_symlink(s, p, target);
  return p;
}

// An open of a path that is not a FIFO: not_a_pipe, at once, in both directions, and the file
// is neither truncated nor written.
void refuses(scene& s, const std::string& path, const std::string& what) {
  for (const char* dir : {"r", "w"}) {
    call c = s.agent1().start({{"op", "open"}, {"name", path}, {"dir", dir}});
    // A wrong implementation may block here (a symlink to a FIFO followed): a reply must come.
    auto r = c.who().poll_reply(s.options().step_timeout);
    if (!r) {
      c.who().kill();
      s.fail("open " + std::string(dir) + " of " + what + " blocked instead of failing not_a_pipe");
    }
    if ((*r)["ok"].get<bool>())
      s.fail("open " + std::string(dir) + " of " + what + " succeeded; it must fail not_a_pipe");
    std::string e = r->value("error", std::string());
    if (e == "unsupported") throw not_applicable("open unsupported: " + r->dump());
    s.expect(e == "not_a_pipe",
             "open " + std::string(dir) + " of " + what + " failed with " + e + ", not not_a_pipe");
  }
}

}  // namespace

NPIPE_SCENARIO(fifo_paths, regular_file_not_a_pipe, "FIFO-OPEN-7", "fifo", "agent", kFilesAtThePath,
               "Opening a regular file gives not_a_pipe and leaves it untouched") {
  std::string f = make_file(s, "file", "precious");
  refuses(s, f, "a regular file");
  s.expect(file_content(f) == "precious", "the regular file was changed");
}

NPIPE_SCENARIO(fifo_paths, directory_not_a_pipe, "FIFO-OPEN-7", "fifo", "agent", kFilesAtThePath,
               "Opening a directory gives not_a_pipe") {
  std::string d = s.path("dir");
  make_directory(s, d);
  refuses(s, d, "a directory");
}

NPIPE_SCENARIO(fifo_paths, socket_not_a_pipe, "FIFO-OPEN-7", "fifo", "agent", kFilesAtThePath,
               "Opening a socket file gives not_a_pipe") {
  std::string p = s.path("sock");
  make_socket_file(s, p, true);
  refuses(s, p, "a socket");
}

NPIPE_SCENARIO(fifo_paths, device_not_a_pipe, "FIFO-OPEN-7", "fifo", "agent", kFilesAtThePath,
               "Opening a device (/dev/null) gives not_a_pipe") {
  refuses(s, "/dev/null", "a character device");
}

NPIPE_SCENARIO(fifo_paths, symlink_to_fifo_not_followed, "FIFO-OPEN-8", "fifo", "agent",
               kFilesAtThePath,
               "A symbolic link to a FIFO is not followed: not_a_pipe, without blocking") {
  std::string target = fifo_at(s, "real");
  refuses(s, symlink_at(s, "link", target), "a symlink to a FIFO");
}

NPIPE_SCENARIO(fifo_paths, dangling_symlink_not_followed, "FIFO-OPEN-8", "fifo", "agent",
               kFilesAtThePath, "A dangling symbolic link gives not_a_pipe") {
  refuses(s, symlink_at(s, "link", s.path("nowhere")), "a dangling symlink");
  s.expect(!lstat_of(s.path("nowhere")), "opening a dangling symlink created its target");
}

NPIPE_SCENARIO(fifo_paths, create_over_existing_names, "FIFO-CREATE-3", "fifo", "agent",
               kFilesAtThePath,
               "Creating a name that exists (FIFO, file, directory, dangling symlink) gives "
               "already_exists and leaves it untouched") {
  std::string file = make_file(s, "file", "keep");
  std::string fifo = fifo_at(s, "fifo");
  std::string dir = s.path("dir");
  make_directory(s, dir);
  std::string dangling = symlink_at(s, "dangling", s.path("nowhere"));
  for (const auto& p : {file, fifo, dir, dangling})
    s.agent1().fails({{"op", "create"}, {"name", p}, {"dir", "r"}}, "already_exists");
  s.expect(file_content(file) == "keep", "the existing file was changed");
  auto st = lstat_of(fifo);
  s.expect(st && st->kind == path_kind::fifo, "the existing FIFO was replaced");
  st = lstat_of(dangling);
  s.expect(st && st->kind == path_kind::symlink, "the dangling symlink was replaced");
  s.expect(!lstat_of(s.path("nowhere")), "a FIFO was created through the dangling symlink");
}

NPIPE_SCENARIO(fifo_paths, squatted_name_refused, "FIFO-CREATE-3", "fifo", "owner peer",
               kFilesAtThePath,
               "A name squatted by another owner's live FIFO gives already_exists") {
  std::string f = s.path("f");
  std::string first = create(s, s.owner(), f, "r");
  s.peer().fails({{"op", "create"}, {"name", f}, {"dir", "w"}}, "already_exists");
  // The first owner still has its FIFO and can use it.
  call open = s.owner().start({{"op", "open"}, {"owner", first}, {"dir", "r"}});
  std::string w = handle_of(s, s.peer().ok({{"op", "open"}, {"name", f}, {"dir", "w"}}));
  open.ok();
  s.peer().ok({{"op", "close"}, {"handle", w}});
}

NPIPE_SCENARIO(fifo_paths, adopt_existing_fifo, "FIFO-CREATE-4", "fifo", "owner peer",
               kFilesAtThePath,
               "With adopt, an existing FIFO is taken over; anything else gives not_a_pipe") {
  std::string fifo = s.path("fifo");
  make_fifo(s, fifo);
  std::string owner = create(s, s.owner(), fifo, "r", {{"adopt", true}});
  call open = s.owner().start({{"op", "open"}, {"owner", owner}, {"dir", "r"}});
  std::string w = handle_of(s, s.peer().ok({{"op", "open"}, {"name", fifo}, {"dir", "w"}}));
  std::string r = handle_of(s, open.ok());
  s.peer().ok({{"op", "write"}, {"handle", w}, {"data", b64("adopted")}});
  s.expect(read_exactly(s, s.owner(), r, 7) == "adopted", "the adopted FIFO does not carry data");
  std::string file = make_file(s, "file", "keep");
  s.owner().fails({{"op", "create"}, {"name", file}, {"dir", "r"}, {"adopt", true}}, "not_a_pipe");
  s.expect(file_content(file) == "keep", "adopt changed a regular file");
  std::string link = symlink_at(s, "link", fifo);
  s.owner().fails({{"op", "create"}, {"name", link}, {"dir", "r"}, {"adopt", true}}, "not_a_pipe");
}

NPIPE_SCENARIO(fifo_paths, default_mode_0600, "FIFO-CREATE-1", "fifo", "agent", kFilesAtThePath,
               "The owner creates the FIFO with mode 0600 by default, even with umask 0") {
  s.role("agent", 0, 0u);
  std::string f = s.path("f");
  create(s, s.agent1(), f, "r");
  auto st = lstat_of(f);
  s.expect(st && st->kind == path_kind::fifo, "create made no FIFO");
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", st->mode);
  s.expect(st->mode == 0600, std::string("mode is ") + buf + ", not 0600");
}

NPIPE_SCENARIO(fifo_paths, requested_mode_despite_umask, "FIFO-CREATE-2", "fifo", "agent",
               kFilesAtThePath,
               "A requested mode is applied exactly, whatever the umask (here 077)") {
  s.role("agent", 0, 077u);
  for (unsigned mode : {0640u, 0666u, 0604u}) {
    std::string f = s.path("f" + std::to_string(mode));
    std::string h = create(s, s.agent1(), f, "r", {{"mode", mode}});
    auto st = lstat_of(f);
    s.expect(st && st->kind == path_kind::fifo, "create made no FIFO");
    char buf[64];
    std::snprintf(buf, sizeof buf, "asked %04o under umask 077, got %04o", mode, st->mode);
    s.expect(st->mode == mode, buf);
    s.agent1().ok({{"op", "close"}, {"handle", h}});
  }
}

NPIPE_SCENARIO(fifo_paths, unrepresentable_names, "NAME-3 ERR-5", "fifo", "agent", kFilesAtThePath,
               "Empty, NUL-carrying and over-long names give invalid_name and create nothing") {
  s.agent1().fails({{"op", "create"}, {"name", ""}, {"dir", "r"}}, "invalid_name");
  s.agent1().fails(
      {{"op", "create"}, {"name", s.path("a") + std::string(1, '\0') + "b"}, {"dir", "r"}},
      "invalid_name");
  s.agent1().fails({{"op", "create"}, {"name", s.path(std::string(5000, 'x'))}, {"dir", "r"}},
                   "invalid_name");
  s.expect(!lstat_of(s.path("a")), "a name with a NUL created its prefix");
}

}  // namespace npipe::conformance

namespace npipe::conformance {

NPIPE_SCENARIO(fifo_paths, portable_name_is_relative, "NAME-1 NAME-2", "fifo", "owner peer",
               kFilesAtThePath,
               "A portable name is a path relative to the current directory; a raw path is used "
               "as given") {
  using namespace support;
  // Both agents start in the private directory (agent commands must use absolute paths).
  s.role("owner", 0, {}, s.dir());
  std::string owner = create(s, s.owner(), "jobs", "r");
  auto st = lstat_of(s.path("jobs"));
  s.expect(st && st->kind == path_kind::fifo, "the portable name 'jobs' did not make ./jobs");
  call open = s.owner().start({{"op", "open"}, {"owner", owner}, {"dir", "r"}});
  // The peer, started elsewhere, reaches the same FIFO by its raw absolute path.
  std::string w =
      handle_of(s, s.peer().ok({{"op", "open"}, {"name", s.path("jobs")}, {"dir", "w"}}));
  std::string r = handle_of(s, open.ok());
  s.peer().ok({{"op", "write"}, {"handle", w}, {"data", b64("rel")}});
  s.expect(read_exactly(s, s.owner(), r, 3) == "rel", "the relative and raw names differ");
}

}  // namespace npipe::conformance

namespace npipe::conformance {

NPIPE_SCENARIO(fifo_paths, adopt_refuses_a_foreign_fifo, "FIFO-SEC-6", "fifo", "agent",
               kFilesAtThePath,
               "Adopt refuses a FIFO that belongs to another user with permission_denied and "
               "leaves it as it was") {
  using namespace support;
  // The agents run as the driver's user; only root can give a FIFO to somebody else.
  if (!driver_is_root())
    throw skipped("the driver is not root: it cannot make a FIFO owned by another user");
  const unsigned nobody = 65534;
  std::string f = s.path("foreign");
  make_fifo(s, f);
  give_to_user(s, f, nobody, 0666);
  auto before = lstat_of(f);
  s.agent1().fails({{"op", "create"}, {"name", f}, {"dir", "r"}, {"adopt", true}},
                   "permission_denied");
  auto after = lstat_of(f);
  s.expect(after && after->kind == path_kind::fifo && after->inode == before->inode,
           "the other user's FIFO was removed or replaced");
  s.expect(after->uid == nobody && after->mode == 0666,
           "the other user's FIFO changed owner or mode");
  // Nothing happened: the agent holds no descriptor of it (a writer would now find a reader).
  s.agent1().fails({{"op", "open"}, {"name", f}, {"dir", "w"}, {"timeout_ms", 0}}, "would_block");
}

NPIPE_SCENARIO(fifo_paths, mode_beyond_permissions_exact_or_unsupported, "ERR-6 FIFO-CREATE-2",
               "fifo", "agent", kFilesAtThePath,
               "A mode with the sticky bit is applied exactly or refused unsupported with nothing "
               "created, never weakened in silence") {
  using namespace support;
  s.role("agent", 0, 077u);
  std::string f = s.path("sticky");
  json r =
      s.agent1().start({{"op", "create"}, {"name", f}, {"dir", "r"}, {"mode", 01600}}).answer();
  auto st = lstat_of(f);
  if (!r["ok"].get<bool>()) {
    s.expect(r.value("error", std::string()) == "unsupported",
             "create with mode 01600 failed with " + r.dump() +
                 ": it must be made exactly, or refused as unsupported");
    s.expect(!st, "create with mode 01600 answered unsupported but left a file at the name");
    return;
  }
  char buf[96];
  std::snprintf(buf, sizeof buf,
                "asked 01600 under umask 077, got %04o: not honoured, yet not "
                "refused as unsupported",
                st ? st->mode : 0u);
  s.expect(st && st->kind == path_kind::fifo && st->mode == 01600, buf);
}

}  // namespace npipe::conformance
