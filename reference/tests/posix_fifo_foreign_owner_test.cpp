// Hostile names (issue 8): another user makes the path first, as a FIFO open to everyone, a
// regular file or a symlink, and the owner refuses to adopt it unless told to (FIFO-SEC-6,
// FIFO-CREATE-4). The other user is `nobody`: a child of this test binary, started as root,
// switches to it with setuid() before it makes anything. Not root: the tests that need a second
// user are skipped, saying so.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "fifo_test_helpers.hpp"
#include "npipe/npipe.hpp"

namespace {

using namespace std::chrono_literals;
using npipe::direction;
using npipe::errc;
using npipe::fifo_options;
using npipe::fifo_owner;
using npipe::test::count_open_fds;
using npipe::test::process;
using npipe::test::temp_dir;
using npipe::test::fifo::ask;
using npipe::test::fifo::kReplyTimeout;
using npipe::test::fifo::lstat_of;
using npipe::test::fifo::next_line;
using npipe::test::fifo::read_file;
using npipe::test::fifo::wait_until_blocked_in;

void say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

struct user_ids {
  uid_t uid;
  gid_t gid;
};

std::optional<user_ids> nobody_user() {
  const struct passwd* pw = ::getpwnam("nobody");
  if (!pw) return std::nullopt;
  return user_ids{pw->pw_uid, pw->pw_gid};
}

fifo_options adopt(bool foreign_owner = false) {
  fifo_options opts;
  opts.adopt_existing = true;
  opts.adopt_foreign_owner = foreign_owner;
  return opts;
}

// The error of a create that must fail (its message in *why); io_error and a test failure if
// it succeeded.
errc create_error(const std::string& path, direction dir, const fifo_options& opts,
                  std::string* why = nullptr) {
  try {
    fifo_owner::create(path, dir, opts);
  } catch (const npipe::error& e) {
    if (why) *why = e.what();
    return e.value();
  }
  ADD_FAILURE() << "create of " << path << " succeeded";
  return errc::io_error;
}

// What lstat says about a file, for "left untouched": the same inode, type, mode, owner, size
// and times (a chmod, chown, truncation or write would change ctime or mtime).
struct file_state {
  ino_t ino;
  mode_t mode;
  uid_t uid;
  off_t size;
  struct timespec mtime;
  struct timespec ctime;
};

std::optional<file_state> state_of(const std::string& path) {
  auto st = lstat_of(path);
  if (!st) return std::nullopt;
  return file_state{st->st_ino, st->st_mode, st->st_uid, st->st_size, st->st_mtim, st->st_ctim};
}

void expect_same(const std::optional<file_state>& before, const std::string& path,
                 const std::string& when) {
  auto after = state_of(path);
  ASSERT_TRUE(before) << path;
  ASSERT_TRUE(after) << path << " was removed " << when;
  EXPECT_EQ(after->ino, before->ino) << path << " was replaced " << when;
  EXPECT_EQ(after->mode, before->mode) << path << " changed type or mode " << when;
  EXPECT_EQ(after->uid, before->uid) << path << " changed owner " << when;
  EXPECT_EQ(after->size, before->size) << path << " changed size " << when;
  EXPECT_TRUE(after->mtime.tv_sec == before->mtime.tv_sec &&
              after->mtime.tv_nsec == before->mtime.tv_nsec)
      << path << " was modified " << when;
  EXPECT_TRUE(after->ctime.tv_sec == before->ctime.tv_sec &&
              after->ctime.tv_nsec == before->ctime.tv_nsec)
      << path << " had its inode changed " << when;
}

// Root's tests with `nobody` as the other user, in a fresh private directory owned by nobody
// (mode 0700: nobody may make names in it; root may anyway). Removed with its contents, whatever
// the outcome, by temp_dir.
class FifoForeignOwner : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root: a child must setuid() to another user to make the names";
    }
    auto other = nobody_user();
    if (!other) GTEST_SKIP() << "there is no user 'nobody' to make the names as";
    if (other->uid == 0) GTEST_SKIP() << "user 'nobody' has uid 0 here: not another user";
    other_ = *other;
    ASSERT_EQ(::chown(dir_.path().c_str(), other_.uid, other_.gid), 0) << std::strerror(errno);
    ASSERT_EQ(::chmod(dir_.path().c_str(), 0700), 0) << std::strerror(errno);
  }

  // Runs the child `foreign_user_makes` as nobody with `ops` (triples, see the child) and returns
  // its one-line answer: "made" when everything was made.
  std::string make_as_nobody(const std::vector<std::string>& ops) {
    std::vector<std::string> args{std::to_string(other_.uid), std::to_string(other_.gid)};
    args.insert(args.end(), ops.begin(), ops.end());
    auto child = process::spawn_self("foreign_user_makes", args);
    std::string line = next_line(child);
    EXPECT_EQ(child.wait(kReplyTimeout), 0) << line;
    return line;
  }

  temp_dir dir_;
  user_ids other_{};
};

}  // namespace

// args: uid, gid, then triples "fifo PATH MODE" (octal, exact), "file PATH TEXT" (mode 0666),
// "symlink PATH TARGET". Switches to uid/gid for good (no way back to root), makes each name in
// order, and prints "made", or "error ..." at the first failure.
NPIPE_TEST_CHILD(foreign_user_makes) {
  const auto& args = npipe::test::child_args();
  if (args.size() < 2 || (args.size() - 2) % 3 != 0) return 2;
  const auto uid = static_cast<uid_t>(std::stoul(args[0]));
  const auto gid = static_cast<gid_t>(std::stoul(args[1]));
  if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) {
    say(std::string("error cannot switch to uid ") + args[0] + ": " + std::strerror(errno));
    return 3;
  }
  if (::geteuid() != uid || ::getuid() != uid || ::setuid(0) == 0) {
    say("error still privileged after setuid(" + args[0] + ")");
    return 3;
  }
  ::umask(0);  // this process only: the modes below are exact
  for (std::size_t i = 2; i < args.size(); i += 3) {
    const std::string& what = args[i];
    const std::string& path = args[i + 1];
    const std::string& arg = args[i + 2];
    bool ok = false;
    if (what == "fifo") {
      ok = ::mkfifo(path.c_str(), static_cast<mode_t>(std::stoul(arg, nullptr, 8))) == 0;
    } else if (what == "file") {
      int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
      ok = fd >= 0 && ::write(fd, arg.data(), arg.size()) == static_cast<ssize_t>(arg.size());
      if (fd >= 0) ::close(fd);
    } else if (what == "symlink") {
      ok = ::symlink(arg.c_str(), path.c_str()) == 0;
    } else {
      say("error unknown kind " + what);
      return 2;
    }
    if (!ok) {
      say("error " + what + " " + path + " as uid " + args[0] + ": " + std::strerror(errno));
      return 4;
    }
  }
  say("made");
  return 0;
}

// (a) Another user's FIFO with mode 0666: adopt refuses it with permission_denied and a message
// that says whose it is and how to override, and it is left as it was. Nothing opened it: a
// writer blocked in its open (which any reader's open, even a transient one, would release) is
// still blocked afterwards, and no descriptor is left over.
// NPIPE_REQ: FIFO-SEC-6
TEST_F(FifoForeignOwner, AdoptRefusesAFifoOfAnotherUserAndLeavesItUntouched) {
  npipe::test::watchdog dog(30s, "FifoForeignOwner.AdoptRefusesAFifoOfAnotherUser");
  const std::string path = dir_.file("squatted");
  ASSERT_EQ(make_as_nobody({"fifo", path, "666"}), "made");
  const auto before = state_of(path);
  ASSERT_TRUE(before);
  ASSERT_TRUE(S_ISFIFO(before->mode));
  ASSERT_EQ(before->mode & 07777, 0666u);
  ASSERT_EQ(before->uid, other_.uid);

  auto writer = npipe::test::fifo::spawn_peer(path, "w");  // root's writer, blocking open
  ASSERT_TRUE(wait_until_blocked_in(writer.pid(), SYS_openat, 10s)) << "never blocked in open";

  const int fds = count_open_fds();
  for (direction dir : {direction::read, direction::write}) {
    std::string why;
    EXPECT_EQ(create_error(path, dir, adopt(), &why), errc::permission_denied) << why;
    EXPECT_NE(why.find(path), std::string::npos) << "the message does not name the path: " << why;
    EXPECT_NE(why.find("uid " + std::to_string(other_.uid)), std::string::npos)
        << "the message does not name the owner: " << why;
    EXPECT_NE(why.find("uid " + std::to_string(::geteuid())), std::string::npos)
        << "the message does not name this user: " << why;
    EXPECT_NE(why.find("adopt_foreign_owner"), std::string::npos)
        << "the message does not name the option: " << why;
    expect_same(before, path, "by a refused adopt");
  }
  // Without adopt it is just a name that exists (FIFO-CREATE-3).
  EXPECT_EQ(create_error(path, direction::read, {}), errc::already_exists);
  expect_same(before, path, "by a refused create");
  EXPECT_EQ(count_open_fds(), fds) << "a refused adopt left a descriptor open";
  EXPECT_TRUE(wait_until_blocked_in(writer.pid(), SYS_openat, 10s))
      << "the blocked writer was released: the refused adopt opened the FIFO";
  std::string line;
  EXPECT_FALSE(writer.read_line(line, 0ms)) << "the writer said: " << line;
}

// (a) with the opt-in: the same FIFO is adopted as it is (owner and mode unchanged), carries
// data, and the adopting owner removes it like one it created (FIFO-CREATE-4).
// NPIPE_REQ: FIFO-SEC-6 FIFO-CREATE-4
TEST_F(FifoForeignOwner, AdoptForeignOwnerTakesOverAFifoOfAnotherUser) {
  npipe::test::watchdog dog(30s, "FifoForeignOwner.AdoptForeignOwnerTakesOverAFifoOfAnotherUser");
  const std::string path = dir_.file("handed-over");
  ASSERT_EQ(make_as_nobody({"fifo", path, "666"}), "made");
  const auto before = state_of(path);
  ASSERT_TRUE(before);
  {
    fifo_owner owner = fifo_owner::create(path, direction::read, adopt(true));
    expect_same(before, path, "by adopting it");
    auto writer = npipe::test::fifo::spawn_peer(path, "w");
    npipe::fifo_end in = owner.open(npipe::deadline::after(10s));
    ASSERT_EQ(next_line(writer), "opened");
    EXPECT_EQ(ask(writer, "write handed over"), "wrote 11");
    char buf[16] = {};
    EXPECT_EQ(in.read(buf, sizeof buf, npipe::deadline::after(10s)), 11u);
    EXPECT_EQ(std::string(buf, 11), "handed over");
  }
  EXPECT_FALSE(lstat_of(path)) << "the adopting owner did not remove the name";
}

// (b) Another user's regular file: not_a_pipe with or without the opt-in, and the file is not
// opened, truncated, chmod-ed or removed, even for an owner whose end would write.
// NPIPE_REQ: FIFO-CREATE-4 FIFO-SEC-6
TEST_F(FifoForeignOwner, AdoptOfAnotherUsersRegularFileGivesNotAPipeWithOrWithoutTheOptIn) {
  npipe::test::watchdog dog(30s, "FifoForeignOwner.AdoptOfAnotherUsersRegularFile");
  const std::string path = dir_.file("planted");
  ASSERT_EQ(make_as_nobody({"file", path, "nobody's bytes"}), "made");
  const auto before = state_of(path);
  ASSERT_TRUE(before);
  ASSERT_TRUE(S_ISREG(before->mode));
  ASSERT_EQ(before->uid, other_.uid);
  const int fds = count_open_fds();
  for (bool foreign_owner : {false, true}) {
    for (direction dir : {direction::write, direction::read}) {
      std::string why;
      EXPECT_EQ(create_error(path, dir, adopt(foreign_owner), &why), errc::not_a_pipe)
          << "adopt_foreign_owner=" << foreign_owner << ": " << why;
      expect_same(before, path, "by adopt");
    }
  }
  EXPECT_EQ(read_file(path), "nobody's bytes");
  EXPECT_EQ(count_open_fds(), fds);
}

// (c) Another user's symlink to root's own FIFO: not_a_pipe with or without the opt-in (a
// symlink is never adopted, whatever it points to); the link and the FIFO are left alone.
// NPIPE_REQ: FIFO-CREATE-4 FIFO-SEC-6 FIFO-OPEN-8
TEST_F(FifoForeignOwner, AdoptOfAnotherUsersSymlinkToOurFifoGivesNotAPipeWithOrWithoutTheOptIn) {
  npipe::test::watchdog dog(30s, "FifoForeignOwner.AdoptOfAnotherUsersSymlinkToOurFifo");
  const std::string target = dir_.file("ours");
  fifo_owner ours = fifo_owner::create(target, direction::read);  // root's, 0600
  const std::string link = dir_.file("link");
  ASSERT_EQ(make_as_nobody({"symlink", link, target}), "made");
  const auto link_before = state_of(link);
  const auto target_before = state_of(target);
  ASSERT_TRUE(link_before);
  ASSERT_TRUE(S_ISLNK(link_before->mode));
  ASSERT_EQ(link_before->uid, other_.uid);
  ASSERT_TRUE(target_before);
  for (bool foreign_owner : {false, true}) {
    std::string why;
    EXPECT_EQ(create_error(link, direction::read, adopt(foreign_owner), &why), errc::not_a_pipe)
        << "adopt_foreign_owner=" << foreign_owner << ": " << why;
    expect_same(link_before, link, "by adopt");
    expect_same(target_before, target, "by adopt of a symlink to it");
  }
  char buf[4096];
  const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<std::size_t>(n)), target);
  // Our own FIFO is still ours and works.
  npipe::fifo_end in = ours.open(npipe::deadline::immediate());
  EXPECT_TRUE(in.is_open());
}

// A FIFO of this same user is adopted without the opt-in whatever its mode: 0644 is what Python's
// os.mkfifo gives under umask 022 (the interop case), and the mode is left as it is. Needs no
// second user, so it runs unprivileged too.
// NPIPE_REQ: FIFO-SEC-6 FIFO-CREATE-4
TEST(FifoSameOwner, AdoptTakesOverAFifoOfThisUserWithAWiderModeWithoutTheOptIn) {
  npipe::test::watchdog dog(30s, "FifoSameOwner.AdoptTakesOverAFifoOfThisUserWithAWiderMode");
  temp_dir dir;
  for (mode_t mode : {mode_t{0644}, mode_t{0666}}) {
    const std::string path = dir.file("mine" + std::to_string(mode));
    ASSERT_EQ(::mkfifo(path.c_str(), mode), 0);
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);  // exact, whatever the umask
    const auto before = state_of(path);
    ASSERT_TRUE(before);
    ASSERT_EQ(before->uid, ::geteuid());
    {
      fifo_owner owner = fifo_owner::create(path, direction::read, adopt());
      expect_same(before, path, "by adopting it");
      EXPECT_EQ(lstat_of(path)->st_mode & 07777, mode);
      npipe::fifo_end in = owner.open(npipe::deadline::immediate());
      EXPECT_TRUE(in.is_open());
    }
    EXPECT_FALSE(lstat_of(path)) << "the adopting owner did not remove the name";
  }
}
