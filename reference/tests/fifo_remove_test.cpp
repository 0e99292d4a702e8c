// Removing a FIFO's name on POSIX (spec FIFO-REMOVE-*).
#ifndef _WIN32

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fifo_test_helpers.hpp"
#include "npipe/npipe.hpp"

namespace {

using namespace std::chrono_literals;
using npipe::deadline;
using npipe::direction;
using npipe::errc;
using npipe::fifo_end;
using npipe::fifo_owner;
using npipe::open_fifo;
using npipe::test::temp_dir;
using npipe::test::fifo::ask;
using npipe::test::fifo::lstat_of;
using npipe::test::fifo::next_line;
using npipe::test::fifo::spawn_peer;

// NPIPE_REQ: FIFO-REMOVE-1
TEST(FifoRemove, EndsAlreadyOpenKeepWorkingAfterRemoval) {
  npipe::test::watchdog dog(30s, "FifoRemove.EndsKeepWorking");
  temp_dir dir;
  fifo_owner owner = fifo_owner::create(dir.file("f"), direction::read);
  auto writer = spawn_peer(owner.path(), "w");
  fifo_end in = owner.open(deadline::after(10s));
  ASSERT_EQ(next_line(writer), "opened");
  owner.remove();
  ASSERT_FALSE(lstat_of(owner.path())) << "remove() left the name";
  EXPECT_EQ(ask(writer, "write still here"), "wrote 10");
  char buf[16];
  ASSERT_EQ(in.read(buf, sizeof buf, deadline::after(10s)), 10u);
  EXPECT_EQ(std::string(buf, 10), "still here");
  EXPECT_EQ(ask(writer, "close"), "closed");
  EXPECT_EQ(in.read(buf, sizeof buf, deadline::after(10s)), 0u);
}

// NPIPE_REQ: FIFO-REMOVE-2
TEST(FifoRemove, OpenByNameAfterRemovalGivesNotFound) {
  npipe::test::watchdog dog(30s, "FifoRemove.OpenByNameAfterRemovalGivesNotFound");
  temp_dir dir;
  fifo_owner owner = fifo_owner::create(dir.file("f"), direction::read);
  fifo_end in = owner.open(deadline::immediate());
  owner.remove();
  owner.remove();  // idempotent
  for (direction d : {direction::read, direction::write}) {
    for (deadline form : {deadline::immediate(), deadline::after(50ms), deadline::forever()}) {
      try {
        open_fifo(owner.path(), d, form);
        FAIL() << "opened a removed name";
      } catch (const npipe::error& e) {
        EXPECT_EQ(e.value(), errc::not_found);
      }
    }
  }
  try {
    owner.open(deadline::immediate());
    FAIL() << "the owner reopened a removed name";
  } catch (const npipe::error& e) {
    EXPECT_EQ(e.value(), errc::not_found);
  }
}

// NPIPE_REQ: FIFO-REMOVE-3
TEST(FifoRemove, TheNameCanBeCreatedAgainAsAnUnrelatedFifo) {
  npipe::test::watchdog dog(30s, "FifoRemove.TheNameCanBeCreatedAgainAsAnUnrelatedFifo");
  temp_dir dir;
  const std::string path = dir.file("f");
  fifo_owner old_owner = fifo_owner::create(path, direction::read);
  fifo_end old_in = old_owner.open(deadline::immediate());
  fifo_end old_out = open_fifo(path, direction::write, deadline::immediate());
  const auto old_st = lstat_of(path);
  old_owner.remove();

  fifo_owner new_owner = fifo_owner::create(path, direction::read);
  const auto new_st = lstat_of(path);
  ASSERT_TRUE(new_st);
  EXPECT_NE(new_st->st_ino, old_st->st_ino);
  // No reader on the new FIFO yet: the old ends do not count for it.
  try {
    open_fifo(path, direction::write, deadline::immediate());
    FAIL() << "the new FIFO has a reader it should not have";
  } catch (const npipe::error& e) {
    EXPECT_EQ(e.value(), errc::would_block);
  }
  fifo_end new_in = new_owner.open(deadline::immediate());
  fifo_end new_out = open_fifo(path, direction::write, deadline::immediate());
  old_out.write_all("old", 3);
  new_out.write_all("new", 3);
  char buf[8];
  ASSERT_EQ(old_in.read(buf, sizeof buf, deadline::immediate()), 3u);
  EXPECT_EQ(std::string(buf, 3), "old");
  ASSERT_EQ(new_in.read(buf, sizeof buf, deadline::immediate()), 3u);
  EXPECT_EQ(std::string(buf, 3), "new");
  // The old owner's destructor must not remove the new FIFO.
  { fifo_owner gone = std::move(old_owner); }
  EXPECT_TRUE(lstat_of(path));
}

// NPIPE_REQ: FIFO-REMOVE-4
TEST(FifoRemove, OwnerRemovesOnlyItsOwnFifo) {
  npipe::test::watchdog dog(30s, "FifoRemove.OwnerRemovesOnlyItsOwnFifo");
  temp_dir dir;
  const std::string path = dir.file("f");
  const int fds = npipe::test::count_open_fds();
  {
    fifo_owner owner = fifo_owner::create(path, direction::read);
    ASSERT_EQ(::unlink(path.c_str()), 0);
    // Somebody else's FIFO, same name. (On ext4 and tmpfs it often gets the freed inode
    // number of ours, so comparing st_ino alone is not enough.)
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    const auto theirs = lstat_of(path);
    owner.remove();
    const auto after = lstat_of(path);
    ASSERT_TRUE(after) << "removed somebody else's FIFO";
    EXPECT_EQ(after->st_ino, theirs->st_ino);
  }
  EXPECT_TRUE(lstat_of(path)) << "the destructor removed somebody else's FIFO";
  ASSERT_EQ(::unlink(path.c_str()), 0);
  {
    fifo_owner owner = fifo_owner::create(path, direction::write);
    ASSERT_EQ(::unlink(path.c_str()), 0);
    npipe::test::fifo::write_file(path, "a file now");
  }
  EXPECT_EQ(npipe::test::fifo::read_file(path), "a file now");
  ASSERT_EQ(::unlink(path.c_str()), 0);
  {
    fifo_owner owner = fifo_owner::create(path, direction::write);
    owner.release();
  }
  EXPECT_TRUE(lstat_of(path)) << "a released name was removed";
  EXPECT_EQ(npipe::test::count_open_fds(), fds) << "an owner left a descriptor behind";
}

}  // namespace

#endif  // _WIN32
