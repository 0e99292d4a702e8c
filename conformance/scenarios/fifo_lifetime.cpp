// fifo_lifetime.cpp: removal of the name and the owner's lifetime
// (spec/npipe.md, "FIFO profile: removal and lifetime").
#include <fstream>

#include "scenario.hpp"
#include "support.hpp"

namespace npipe::conformance {

using namespace support;

NPIPE_SCENARIO(
    fifo_lifetime, remove_while_open, "FIFO-REMOVE-1 FIFO-REMOVE-2", "fifo", "owner peer",
    needs::posix("not_found while the owner's end is open (FIFO-REMOVE-1; Windows: FIFO-REMOVE-5)"),
    "Removing the name leaves open ends working; a new open by name "
    "gets not_found") {
  std::string f = s.path("f");
  auto p = open_pair(s, s.owner(), s.peer(), f, "r");
  s.owner().ok({{"op", "remove"}, {"handle", p.owner}});
  s.expect(!lstat_of(f), "the name still exists after remove");
  s.peer().ok({{"op", "write"}, {"handle", p.peer_end}, {"data", b64("still here")}});
  s.expect(read_exactly(s, s.owner(), p.owner_end, 10) == "still here",
           "the ends stopped working after the name was removed");
  s.peer().fails({{"op", "open"}, {"name", f}, {"dir", "w"}, {"timeout_ms", 0}}, "not_found");
  s.peer().fails({{"op", "open"}, {"name", f}, {"dir", "r"}}, "not_found");
}

NPIPE_SCENARIO(fifo_lifetime, recreate_after_remove, "FIFO-REMOVE-3", "fifo", "owner peer",
               "After removal the name can be created again, as a FIFO unrelated to the old ends") {
  std::string f = s.path("f");
  auto old = open_pair(s, s.owner(), s.peer(), f, "r");
  s.owner().ok({{"op", "remove"}, {"handle", old.owner}});
  // The same name again, made by the peer's implementation this time, both ends new.
  auto fresh = open_pair(s, s.peer(1), s.owner(1), f, "r");
  s.peer().ok({{"op", "write"}, {"handle", old.peer_end}, {"data", b64("old")}});
  s.owner(1).ok({{"op", "write"}, {"handle", fresh.peer_end}, {"data", b64("new")}});
  s.expect(read_exactly(s, s.owner(), old.owner_end, 3) == "old", "the old FIFO's bytes differ");
  s.expect(read_exactly(s, s.peer(1), fresh.owner_end, 3) == "new",
           "the new FIFO's bytes differ (old and new FIFO mixed?)");
}

NPIPE_SCENARIO(fifo_lifetime, remove_spares_a_replaced_name, "FIFO-REMOVE-4", "fifo", "agent",
               needs::posix("a file made at the path"),
               "An owner whose name was replaced by another file does not remove that file") {
  std::string f = s.path("f");
  std::string owner = create(s, s.agent1(), f, "r");
  // Holding the old FIFO open keeps its inode alive, so the replacement cannot reuse the inode
  // number and look like the owner's own file to a (device, inode) check.
  hold_fifo_open(s, f);  // the driver keeps the FIFO's inode alive
  remove_name(f);
  std::ofstream(f) << "someone else's";
  s.driver_made(f);
  s.agent1().reply({{"op", "remove"}, {"handle", owner}});  // ok or an error: both allowed
  s.expect(file_content(f) == "someone else's",
           "remove() deleted or changed a file it did not make");
  s.agent1().ok({{"op", "close"}, {"handle", owner}});
  s.expect(file_content(f) == "someone else's",
           "close() deleted or changed a file it did not make");
}

NPIPE_SCENARIO(fifo_lifetime, remove_spares_a_new_fifo, "FIFO-REMOVE-4", "fifo", "owner peer",
               needs::posix("stat of the path and its FIFO held open"),
               "An owner whose FIFO was removed and re-made by another owner leaves the new one") {
  std::string f = s.path("f");
  std::string first = create(s, s.owner(), f, "r");
  hold_fifo_open(s, f);  // the driver keeps the FIFO's inode alive
  remove_name(f);
  std::string second = create(s, s.peer(), f, "r");
  s.owner().reply({{"op", "remove"}, {"handle", first}});
  auto st = lstat_of(f);
  s.expect(st && st->kind == path_kind::fifo, "the first owner removed the second owner's FIFO");
  s.peer().ok({{"op", "remove"}, {"handle", second}});
  s.expect(!lstat_of(f), "the second owner could not remove its own FIFO");
}

NPIPE_SCENARIO(fifo_lifetime, owner_bye_removes_name, "FIFO-LIFE-4 FIFO-REMOVE-2", "fifo",
               "owner peer", "An owner that ends its session (bye) takes its name with it") {
  std::string f = s.path("f");
  create(s, s.owner(), f, "r");
  s.owner().bye();
  s.expect(!lstat_of(f), "the name survived its owner's bye");
  s.peer().fails({{"op", "open"}, {"name", f}, {"dir", "w"}, {"timeout_ms", 0}}, "not_found");
}

NPIPE_SCENARIO(fifo_lifetime, released_name_outlives_owner, "FIFO-LIFE-1 FIFO-LIFE-6", "fifo",
               "agent", "A released name outlives its owner: on POSIX the FIFO stays (stale)") {
  std::string f = s.path("f");
  std::string owner = create(s, s.agent1(), f, "r");
  s.agent1().ok({{"op", "release"}, {"handle", owner}});
  bool posix = s.agent1().posix();
  s.agent1().bye();
  auto st = lstat_of(f);
  if (posix) {
    s.expect(st && st->kind == path_kind::fifo,
             "on POSIX a released FIFO must persist after its owner");
    remove_name(f);
    s.note("PLATFORM-DEFINED FIFO-LIFE-1: outcome (a) seen: the released FIFO persists");
  }
}

NPIPE_SCENARIO(fifo_lifetime, killed_owner_leaves_stale_name, "FIFO-LIFE-1 FIFO-LIFE-3", "fifo",
               "owner peer",
               "An owner killed with SIGKILL leaves a stale FIFO on POSIX; a new "
               "owner adopts it") {
  std::string f = s.path("f");
  create(s, s.owner(), f, "r");
  bool posix = s.owner().posix();
  s.owner().kill();
  auto st = lstat_of(f);
  if (!posix) return;
  s.expect(st && st->kind == path_kind::fifo, "on POSIX the FIFO of a killed owner persists");
  std::string adopted = create(s, s.peer(), f, "r", {{"adopt", true}});
  call open = s.peer().start({{"op", "open"}, {"owner", adopted}, {"dir", "r"}});
  std::string w = handle_of(s, s.peer(1).ok({{"op", "open"}, {"name", f}, {"dir", "w"}}));
  std::string r = handle_of(s, open.ok());
  s.peer(1).ok({{"op", "write"}, {"handle", w}, {"data", b64("recovered")}});
  s.expect(read_exactly(s, s.peer(), r, 9) == "recovered", "the adopted FIFO does not carry data");
  s.note("PLATFORM-DEFINED FIFO-LIFE-1: outcome (a) seen: the killed owner's FIFO persists");
}

NPIPE_SCENARIO(fifo_lifetime, killed_writer_owner_gives_eof, "FIFO-LIFE-2", "fifo", "owner peer",
               "When the writing owner is killed, the peer's blocked read gets EOF") {
  std::string f = s.path("f");
  auto p = open_pair(s, s.owner(), s.peer(), f, "w");
  s.owner().ok({{"op", "write"}, {"handle", p.owner_end}, {"data", b64("last words")}});
  bool posix = s.owner().posix();
  s.owner().kill();
  if (posix) remove_name(f);  // the stale name is not the peer's business
  s.expect(read_to_eof(s, s.peer(), p.peer_end) == "last words",
           "bytes written before the owner died were lost");
}

NPIPE_SCENARIO(fifo_lifetime, killed_reader_owner_gives_broken_pipe, "FIFO-LIFE-2", "fifo",
               "owner peer",
               "When the reading owner is killed, the peer's write gets broken_pipe") {
  std::string f = s.path("f");
  auto p = open_pair(s, s.owner(), s.peer(), f, "r");
  call write =
      s.peer().start({{"op", "write"}, {"handle", p.peer_end}, {"pattern", pattern(4u << 20, 9)}});
  s.expect_pending(write, "a 4 MiB write with the owner not reading");
  bool posix = s.owner().posix();
  s.owner().kill();
  if (posix) remove_name(f);
  write.fails("broken_pipe");
}

}  // namespace npipe::conformance

namespace npipe::conformance {

NPIPE_SCENARIO(fifo_lifetime, owner_close_removes_name, "FIFO-LIFE-4", "fifo", "owner peer",
               "An owner closed without release removes its name; a later open gets not_found") {
  std::string f = s.path("f");
  std::string owner = support::create(s, s.owner(), f, "w");
  s.owner().ok({{"op", "close"}, {"handle", owner}});
  s.expect(!support::lstat_of(f), "the name survived its owner's close");
  s.peer().fails({{"op", "open"}, {"name", f}, {"dir", "r"}}, "not_found");
}

NPIPE_SCENARIO(fifo_lifetime, create_in_missing_directory, "FIFO-CREATE-5", "fifo", "agent",
               "Creating a FIFO in a directory that does not exist gives not_found") {
  s.agent1().fails({{"op", "create"}, {"name", s.path("no/such/dir/f")}, {"dir", "r"}},
                   "not_found");
}

NPIPE_SCENARIO(fifo_lifetime, squatting_a_live_instance_refused, "FIFO-SEC-1", "fifo", "owner peer",
               "A second owner of a name whose instance is live gets already_exists, and the "
               "first owner keeps its name") {
  std::string f = s.path("f");
  std::string first = create(s, s.owner(), f, "r");
  s.peer().fails({{"op", "create"}, {"name", f}, {"dir", "r"}}, "already_exists");
  call open = s.owner().start({{"op", "open"}, {"owner", first}, {"dir", "r"}});
  std::string w = handle_of(s, s.peer().ok({{"op", "open"}, {"name", f}, {"dir", "w"}}));
  open.ok();
  s.peer().ok({{"op", "close"}, {"handle", w}});
}

}  // namespace npipe::conformance
