// FIFO creation on POSIX: mode, existing names, adoption (spec FIFO-CREATE-*, FIFO-LIFE-3).
#ifndef _WIN32

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fifo_test_helpers.hpp"
#include "npipe/npipe.hpp"

namespace {

using namespace std::chrono_literals;
using npipe::direction;
using npipe::errc;
using npipe::fifo_options;
using npipe::fifo_owner;
using npipe::test::temp_dir;
using npipe::test::fifo::lstat_of;

// Sets the process umask for one test and restores it.
class scoped_umask {
 public:
  explicit scoped_umask(mode_t m) : old_(::umask(m)) {}
  ~scoped_umask() { ::umask(old_); }

 private:
  mode_t old_;
};

errc create_error(const std::string& path, const fifo_options& opts = {}) {
  try {
    fifo_owner::create(path, direction::read, opts);
  } catch (const npipe::error& e) {
    return e.value();
  }
  ADD_FAILURE() << "create of " << path << " succeeded";
  return errc::io_error;
}

// NPIPE_REQ: FIFO-CREATE-1
TEST(FifoCreate, DefaultModeIs0600WhateverTheUmask) {
  npipe::test::watchdog dog(30s, "FifoCreate.DefaultModeIs0600WhateverTheUmask");
  temp_dir dir;
  for (mode_t mask : {mode_t{0}, mode_t{022}, mode_t{077}}) {
    scoped_umask um(mask);
    const std::string path = dir.file("fifo" + std::to_string(mask));
    fifo_owner owner = fifo_owner::create(path, direction::read);
    auto st = lstat_of(path);
    ASSERT_TRUE(st) << path;
    EXPECT_TRUE(S_ISFIFO(st->st_mode));
    EXPECT_EQ(st->st_mode & 07777, 0600u) << "umask " << std::oct << mask;
  }
}

// NPIPE_REQ: FIFO-CREATE-2
TEST(FifoCreate, RequestedModeAppliedExactlyWhateverTheUmask) {
  npipe::test::watchdog dog(30s, "FifoCreate.RequestedModeAppliedExactlyWhateverTheUmask");
  temp_dir dir;
  struct sample {
    mode_t umask;
    unsigned mode;
  };
  // 0666 under umask 022 and 0640 under 077 would come out 0644 and 0600 with mkfifo alone.
  for (auto s : {sample{022, 0666}, sample{077, 0640}, sample{0, 0000}, sample{027, 0777},
                 sample{0777, 0604}}) {
    scoped_umask um(s.umask);
    const std::string path = dir.file("m" + std::to_string(s.mode) + "u" + std::to_string(s.umask));
    fifo_options opts;
    opts.mode = s.mode;
    fifo_owner owner = fifo_owner::create(path, direction::read, opts);
    auto st = lstat_of(path);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->st_mode & 07777, s.mode) << "mode " << std::oct << s.mode << " umask " << s.umask;
  }
}

// NPIPE_REQ: FIFO-CREATE-2
TEST(FifoCreate, ModeWithNonPermissionBitsIsRefusedAndCreatesNothing) {
  npipe::test::watchdog dog(30s, "FifoCreate.ModeWithNonPermissionBitsIsRefusedAndCreatesNothing");
  temp_dir dir;
  const std::string path = dir.file("setuid");
  fifo_options opts;
  opts.mode = 04600;
  try {
    fifo_owner::create(path, direction::read, opts);
    FAIL() << "mode 04600 accepted";
  } catch (const npipe::error& e) {
    EXPECT_EQ(e.value(), errc::unsupported);
    EXPECT_NE(std::string(e.what()).find("04600"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(lstat_of(path));
}

// NPIPE_REQ: FIFO-CREATE-3
TEST(FifoCreate, ExistingNameOfAnyTypeGivesAlreadyExistsAndIsLeftUntouched) {
  npipe::test::watchdog dog(30s,
                            "FifoCreate.ExistingNameOfAnyTypeGivesAlreadyExistsAndIsLeftUntouched");
  temp_dir dir;
  const std::string file = dir.file("file");
  npipe::test::fifo::write_file(file, "precious");
  ASSERT_EQ(::chmod(file.c_str(), 0640), 0);
  const std::string subdir = dir.file("dir");
  ASSERT_EQ(::mkdir(subdir.c_str(), 0700), 0);
  const std::string fifo = dir.file("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0604), 0);
  const std::string link = dir.file("link");
  ASSERT_EQ(::symlink("file", link.c_str()), 0);
  const std::string dangling = dir.file("dangling");
  ASSERT_EQ(::symlink("nowhere", dangling.c_str()), 0);
  const std::string sock = dir.file("sock");
  int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(s, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(s);

  for (const std::string& path : {file, subdir, fifo, link, dangling, sock}) {
    auto before = lstat_of(path);
    ASSERT_TRUE(before) << path;
    EXPECT_EQ(create_error(path), errc::already_exists) << path;
    auto after = lstat_of(path);
    ASSERT_TRUE(after) << path << " was removed";
    EXPECT_EQ(after->st_ino, before->st_ino) << path;
    EXPECT_EQ(after->st_mode, before->st_mode) << path;
    EXPECT_EQ(after->st_mtime, before->st_mtime) << path;
  }
  EXPECT_EQ(npipe::test::fifo::read_file(file), "precious");
  EXPECT_FALSE(lstat_of(dir.file("nowhere"))) << "the dangling symlink was followed";
}

// NPIPE_REQ: FIFO-CREATE-3
TEST(FifoCreate, SecondOwnerOfALiveNameGetsAlreadyExists) {
  npipe::test::watchdog dog(30s, "FifoCreate.SecondOwnerOfALiveNameGetsAlreadyExists");
  temp_dir dir;
  const std::string path = dir.file("live");
  fifo_owner first = fifo_owner::create(path, direction::read);
  EXPECT_EQ(create_error(path), errc::already_exists);
  first.remove();
  EXPECT_FALSE(lstat_of(path));
}

// NPIPE_REQ: FIFO-CREATE-4
TEST(FifoCreate, AdoptTakesOverAnExistingFifoAsItIs) {
  npipe::test::watchdog dog(30s, "FifoCreate.AdoptTakesOverAnExistingFifoAsItIs");
  temp_dir dir;
  const std::string path = dir.file("made-by-someone");
  ASSERT_EQ(::mkfifo(path.c_str(), 0644), 0);
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto before = lstat_of(path);
  ASSERT_TRUE(before);
  fifo_options opts;
  opts.adopt_existing = true;
  {
    fifo_owner owner = fifo_owner::create(path, direction::read, opts);
    auto after = lstat_of(path);
    ASSERT_TRUE(after);
    EXPECT_EQ(after->st_ino, before->st_ino) << "the FIFO was replaced, not adopted";
    EXPECT_EQ(after->st_mode & 07777, 0644u) << "adoption changed the mode";
    npipe::fifo_end r = owner.open(npipe::deadline::immediate());
    EXPECT_TRUE(r.is_open());
  }
  EXPECT_FALSE(lstat_of(path)) << "the adopting owner did not remove the name";
}

// NPIPE_REQ: FIFO-CREATE-4
TEST(FifoCreate, AdoptOfAMissingNameCreatesIt) {
  npipe::test::watchdog dog(30s, "FifoCreate.AdoptOfAMissingNameCreatesIt");
  temp_dir dir;
  const std::string path = dir.file("fresh");
  fifo_options opts;
  opts.adopt_existing = true;
  fifo_owner owner = fifo_owner::create(path, direction::write, opts);
  auto st = lstat_of(path);
  ASSERT_TRUE(st);
  EXPECT_TRUE(S_ISFIFO(st->st_mode));
  EXPECT_EQ(st->st_mode & 07777, 0600u);
}

// NPIPE_REQ: FIFO-CREATE-4 FIFO-OPEN-8
TEST(FifoCreate, AdoptOfAnythingButAFifoGivesNotAPipeAndLeavesItUntouched) {
  npipe::test::watchdog dog(30s,
                            "FifoCreate.AdoptOfAnythingButAFifoGivesNotAPipeAndLeavesItUntouched");
  temp_dir dir;
  const std::string file = dir.file("file");
  npipe::test::fifo::write_file(file, "keep me");
  const std::string subdir = dir.file("dir");
  ASSERT_EQ(::mkdir(subdir.c_str(), 0700), 0);
  const std::string fifo = dir.file("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string link_to_fifo = dir.file("link-to-fifo");
  ASSERT_EQ(::symlink("fifo", link_to_fifo.c_str()), 0);
  const std::string dangling = dir.file("dangling");
  ASSERT_EQ(::symlink("nowhere", dangling.c_str()), 0);
  fifo_options opts;
  opts.adopt_existing = true;
  for (const std::string& path : {file, subdir, link_to_fifo, dangling}) {
    auto before = lstat_of(path);
    EXPECT_EQ(create_error(path, opts), errc::not_a_pipe) << path;
    auto after = lstat_of(path);
    ASSERT_TRUE(after) << path;
    EXPECT_EQ(after->st_ino, before->st_ino);
    EXPECT_EQ(after->st_mode, before->st_mode);
  }
  EXPECT_EQ(npipe::test::fifo::read_file(file), "keep me");
  EXPECT_FALSE(lstat_of(dir.file("nowhere")));
}

// NPIPE_REQ: FIFO-LIFE-3 FIFO-LIFE-1
TEST(FifoCreate, StaleFifoOfAKilledOwnerIsRecoveredByAdoption) {
  npipe::test::watchdog dog(30s, "FifoCreate.StaleFifoOfAKilledOwnerIsRecoveredByAdoption");
  temp_dir dir;
  const std::string path = dir.file("stale");
  auto owner_child = npipe::test::process::spawn_self("fifo_owner", {path, "r", "600"});
  ASSERT_EQ(npipe::test::fifo::next_line(owner_child), "created");
  owner_child.kill();  // SIGKILL: no destructor runs
  ASSERT_TRUE(owner_child.wait(npipe::test::fifo::kReplyTimeout));
  ASSERT_TRUE(lstat_of(path)) << "a killed owner's name should persist on POSIX";

  EXPECT_EQ(create_error(path), errc::already_exists);
  fifo_options opts;
  opts.adopt_existing = true;
  fifo_owner owner = fifo_owner::create(path, direction::read, opts);
  auto writer = npipe::test::fifo::spawn_peer(path, "w");
  npipe::fifo_end in = owner.open(npipe::deadline::after(10s));
  ASSERT_EQ(npipe::test::fifo::next_line(writer), "opened");
  EXPECT_EQ(npipe::test::fifo::ask(writer, "write recovered"), "wrote 9");
  char buf[16] = {};
  EXPECT_EQ(in.read(buf, sizeof buf, npipe::deadline::after(10s)), 9u);
  EXPECT_EQ(std::string(buf, 9), "recovered");
  owner.remove();
  EXPECT_FALSE(lstat_of(path));
}

// NPIPE_REQ: FIFO-LIFE-3
TEST(FifoCreate, StaleFifoIsRecoveredByRemovalAndRecreation) {
  npipe::test::watchdog dog(30s, "FifoCreate.StaleFifoIsRecoveredByRemovalAndRecreation");
  temp_dir dir;
  const std::string path = dir.file("stale2");
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);  // as a crashed owner leaves it
  EXPECT_EQ(create_error(path), errc::already_exists);
  ASSERT_EQ(::unlink(path.c_str()), 0);
  fifo_owner owner = fifo_owner::create(path, direction::read);
  auto fresh = lstat_of(path);
  ASSERT_TRUE(fresh);
  EXPECT_TRUE(S_ISFIFO(fresh->st_mode));
  EXPECT_EQ(fresh->st_mode & 07777, 0600u);
}

// NPIPE_REQ: FIFO-LIFE-1
TEST(FifoCreate, OwnerThatReleasesOrIsKilledLeavesTheNameButNormalExitRemovesIt) {
  npipe::test::watchdog dog(30s, "FifoCreate.OwnerLifetime");
  temp_dir dir;
  const std::string released = dir.file("released");
  {
    auto child = npipe::test::process::spawn_self("fifo_owner", {released, "r", "600"});
    ASSERT_EQ(npipe::test::fifo::next_line(child), "created");
    EXPECT_EQ(npipe::test::fifo::ask(child, "release"), "released");
    child.write_stdin("exit\n");
    EXPECT_EQ(child.wait(npipe::test::fifo::kReplyTimeout), 0);
    EXPECT_TRUE(lstat_of(released)) << "a released name must outlive its owner";
  }
  const std::string removed = dir.file("removed");
  {
    auto child = npipe::test::process::spawn_self("fifo_owner", {removed, "r", "600"});
    ASSERT_EQ(npipe::test::fifo::next_line(child), "created");
    ASSERT_TRUE(lstat_of(removed));
    child.write_stdin("exit\n");
    EXPECT_EQ(child.wait(npipe::test::fifo::kReplyTimeout), 0);
    EXPECT_FALSE(lstat_of(removed)) << "an owner that exits normally removes its name";
  }
}

}  // namespace

#endif  // _WIN32
