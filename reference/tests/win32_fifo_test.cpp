// The FIFO profile on Windows (src/common/fifo.cpp over src/win32/pipe_fifo.cpp), between real
// processes where two sides are involved. Requirement IDs in the test names' comments; Wine
// observations are printed as "WINE-FACT" lines (RecordProperty too) so they can be collected for
// the expectations file.
#ifdef _WIN32

#include <aclapi.h>
#include <windows.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "npipe/npipe.hpp"
#include "support.hpp"
#include "win32/security.hpp"
#include "win32_test_util.hpp"

namespace {

using namespace npipe;
using namespace npipe::w32test;
using npipe::test::process;

std::string read_all(fifo_end& end, deadline d = deadline::after(kReply)) {
  std::string out;
  char buf[65536];
  for (;;) {
    std::size_t n = end.read(buf, sizeof buf, d);
    if (n == 0) return out;
    out.append(buf, n);
  }
}

void expect_line(process& p, const std::string& want) {
  std::string line;
  ASSERT_TRUE(p.read_line(line, kReply)) << "child said nothing, wanted '" << want << "'";
  EXPECT_EQ(line, want);
}

}  // namespace

// ---- children
// ------------------------------------------------------------------------------------

// args: name size. Opens as the writing peer, writes `size` pattern bytes, says "done", exits.
NPIPE_TEST_CHILD(w32_fifo_writer) {
  const auto& a = npipe::test::child_args();
  try {
    auto end = open_fifo(a.at(0), direction::write, deadline::after(kReply));
    std::string data = pattern(std::stoul(a.at(1)));
    end.write_all(data.data(), data.size());
    say("done");
  } catch (const npipe::error& e) {
    say(std::string("error ") + errc_name(e.value()));
    return 1;
  }
  return 0;
}

// args: name size. Opens as the reading peer, reads exactly `size` bytes, says "read N", exits.
NPIPE_TEST_CHILD(w32_fifo_reader) {
  const auto& a = npipe::test::child_args();
  auto end = open_fifo(a.at(0), direction::read, deadline::after(kReply));
  std::size_t want = std::stoul(a.at(1)), got = 0;
  char buf[4096];
  while (got < want) {
    std::size_t n = end.read(buf, std::min(sizeof buf, want - got));
    if (n == 0) break;
    got += n;
  }
  say("read " + std::to_string(got));
  return 0;
}

// args: name r|w. Creates the name, opens its end (waiting for the peer), says "open", then waits
// for its stdin to close (or to be killed).
NPIPE_TEST_CHILD(w32_fifo_owner) {
  const auto& a = npipe::test::child_args();
  auto owner = fifo_owner::create(a.at(0), a.at(1) == "r" ? direction::read : direction::write);
  say("ready");
  auto end = owner.open(deadline::after(kReply));
  say("open");
  char c;
  while (std::cin.get(c)) {
  }
  return 0;
}

// args: name. Creates the name and exits without removing it.
NPIPE_TEST_CHILD(w32_fifo_create_and_exit) {
  auto owner = fifo_owner::create(npipe::test::child_args().at(0), direction::read);
  owner.release();
  say("ready");
  return 0;
}

// ---- names (NAME-1..3) --------------------------------------------------------------------

// NPIPE_REQ: NAME-1
TEST(Win32Name, PortableNameMapsToPipeNamespace) {  // NAME-1
  EXPECT_EQ(platform_name("jobs", name_kind::fifo), "\\\\.\\pipe\\jobs");
  EXPECT_EQ(platform_name("a.b_c-9", name_kind::channel), "\\\\.\\pipe\\a.b_c-9");
}

// NPIPE_REQ: NAME-2
TEST(Win32Name, RawPipeNameUsedAsGiven) {  // NAME-2
  EXPECT_EQ(platform_name("\\\\.\\pipe\\x y", name_kind::fifo), "\\\\.\\pipe\\x y");
  EXPECT_EQ(platform_name("\\\\.\\PIPE\\Mixed\\Case", name_kind::channel),
            "\\\\.\\PIPE\\Mixed\\Case");
}

// NPIPE_REQ: NAME-3
TEST(Win32Name, UnrepresentableNamesAreInvalid) {  // NAME-3
  const std::string prefix = "\\\\.\\pipe\\";
  for (std::string bad :
       {std::string(), std::string("a\0b", 3), std::string("C:\\tmp\\x"), std::string("/tmp/x"),
        std::string(".hidden"), prefix, prefix + "a/b",
        prefix + std::string(257 - prefix.size() + 1, 'x'), prefix + "\xff\xfe"}) {
    EXPECT_NPIPE_ERROR(platform_name(bad, name_kind::fifo), errc::invalid_name);
    EXPECT_NPIPE_ERROR(fifo_owner::create(bad, direction::read), errc::invalid_name);
  }
  // Exactly 256 characters is allowed.
  EXPECT_NO_THROW(platform_name(prefix + std::string(256 - prefix.size(), 'x'), name_kind::fifo));
}

// ---- create (FIFO-CREATE-3, FIFO-SEC-1, FIFO-SEC-2) -------------------------------------------

// NPIPE_REQ: FIFO-CREATE-3 FIFO-SEC-1
TEST(Win32Fifo, SecondCreateOfALiveNameIsAlreadyExists) {  // FIFO-CREATE-3, FIFO-SEC-1
  const std::string name = unique_name("squat");
  auto owner = fifo_owner::create(name, direction::read);
  auto c = catch_error([&] { fifo_owner::create(name, direction::write); });
  EXPECT_TRUE(c.thrown);
  EXPECT_EQ(c.code, errc::already_exists) << c.what;
  // Microsoft documents ERROR_ACCESS_DENIED for FILE_FLAG_FIRST_PIPE_INSTANCE on a live name;
  // with a one-instance pipe Wine 8 answers ERROR_PIPE_BUSY (the instance limit is checked first).
  std::cout << "WINE-FACT create-squat-native: " << c.native << "\n";
  RecordProperty("squat_native", c.native);
  // A channel listener on the same name is refused too, and the FIFO is undisturbed.
  EXPECT_NPIPE_ERROR(listener::listen(name), errc::already_exists);
  EXPECT_EQ(owner.path(), "\\\\.\\pipe\\" + name);
}

// NPIPE_REQ: FIFO-CREATE-3
TEST(Win32Fifo, PipeNamesAreCaseInsensitive) {  // FIFO-CREATE-3 (Windows: names fold case)
  const std::string name = unique_name("case");
  auto owner = fifo_owner::create(name, direction::read);
  std::string upper = name;
  for (char& ch : upper)
    ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  EXPECT_NPIPE_ERROR(fifo_owner::create(upper, direction::read), errc::already_exists);
}

// NPIPE_REQ: FIFO-CREATE-4
TEST(Win32Fifo, AdoptIsUnsupported) {  // FIFO-CREATE-4 is POSIX-only
  fifo_options o;
  o.adopt_existing = true;
  EXPECT_NPIPE_ERROR(fifo_owner::create(unique_name("adopt"), direction::read, o),
                     errc::unsupported);
}

// NPIPE_REQ: FIFO-SEC-2
TEST(Win32Fifo, DaclAdmitsOnlyTheCurrentUser) {  // FIFO-SEC-2
  const std::string name = unique_name("dacl");
  auto owner = fifo_owner::create(name, direction::read);
  auto peer = std::async(std::launch::async, [&] {
    return open_fifo(name, direction::write, deadline::after(kReply));
  });
  auto end = owner.open(deadline::after(kReply));
  auto writer = peer.get();
  PACL dacl = nullptr;
  PSECURITY_DESCRIPTOR sd = nullptr;
  DWORD rc = ::GetSecurityInfo(end.native_handle(), SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION,
                               nullptr, nullptr, &dacl, nullptr, &sd);
  ASSERT_EQ(rc, ERROR_SUCCESS);
  ASSERT_NE(dacl, nullptr) << "no DACL: everyone would be admitted";
  auto user = win32::current_user_sid();
  ASSERT_EQ(dacl->AceCount, 1);
  void* ace = nullptr;
  ASSERT_TRUE(::GetAce(dacl, 0, &ace));
  auto* allowed = static_cast<ACCESS_ALLOWED_ACE*>(ace);
  EXPECT_EQ(allowed->Header.AceType, ACCESS_ALLOWED_ACE_TYPE);
  EXPECT_TRUE(::EqualSid(reinterpret_cast<PSID>(&allowed->SidStart), user.data()));
  ::LocalFree(sd);
}

namespace {

// Every ACE of the handle's DACL that is not the current user's: none may carry
// FILE_CREATE_PIPE_INSTANCE (= FILE_APPEND_DATA), and `others_write` says whether one grants
// FILE_WRITE_DATA (the mode's w bits for group and other).
void expect_only_the_owner_creates_instances(HANDLE h, bool others_write, const char* what) {
  PACL dacl = nullptr;
  PSECURITY_DESCRIPTOR sd = nullptr;
  ASSERT_EQ(::GetSecurityInfo(h, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, nullptr, nullptr,
                              &dacl, nullptr, &sd),
            static_cast<DWORD>(ERROR_SUCCESS))
      << what;
  ASSERT_NE(dacl, nullptr) << what << ": no DACL: everyone would be admitted";
  auto user = win32::current_user_sid();
  bool saw_other = false;
  for (DWORD i = 0; i < dacl->AceCount; ++i) {
    void* ace = nullptr;
    ASSERT_TRUE(::GetAce(dacl, i, &ace));
    auto* allowed = static_cast<ACCESS_ALLOWED_ACE*>(ace);
    if (allowed->Header.AceType != ACCESS_ALLOWED_ACE_TYPE) continue;
    if (::EqualSid(reinterpret_cast<PSID>(&allowed->SidStart), user.data())) {
      EXPECT_NE(allowed->Mask & FILE_CREATE_PIPE_INSTANCE, 0u) << what << ": the owner's ACE";
      continue;
    }
    saw_other = true;
    EXPECT_EQ(allowed->Mask & FILE_CREATE_PIPE_INSTANCE, 0u)
        << what << ": ACE " << i << " (mask 0x" << std::hex << allowed->Mask
        << ") lets another user add instances under the name";
    EXPECT_EQ((allowed->Mask & FILE_WRITE_DATA) != 0, others_write) << what << ": ACE " << i;
  }
  EXPECT_TRUE(saw_other) << what << ": a mode with group/other bits gave no ACE for them";
  ::LocalFree(sd);
}

}  // namespace

// NPIPE_REQ: FIFO-SEC-2
// A mode with group or other w bits must not hand FILE_CREATE_PIPE_INSTANCE (part of
// FILE_GENERIC_WRITE) to Everyone: with it another local user can add instances under the name.
TEST(Win32Fifo, NoModeLetsAnotherUserCreateInstances) {
  for (unsigned mode : {0666u, 0622u, 0644u}) {
    const std::string name = unique_name("dacl-wide");
    fifo_options o;
    o.mode = mode;
    auto owner = fifo_owner::create(name, direction::read, o);
    auto peer = std::async(std::launch::async, [&] {
      return open_fifo(name, direction::write, deadline::after(kReply));
    });
    auto end = owner.open(deadline::after(kReply));
    auto writer = peer.get();
    const std::string what = "FIFO mode 0" + std::to_string(mode / 64) +
                             std::to_string(mode / 8 % 8) + std::to_string(mode % 8);
    expect_only_the_owner_creates_instances(end.native_handle(), (mode & 022) != 0, what.c_str());
    // The peer still writes with what npipe's clients ask for (FILE_WRITE_DATA).
    writer.write_all("x", 1);
    char c = 0;
    EXPECT_EQ(end.read(&c, 1, deadline::after(kReply)), 1u);
  }
  for (unsigned mode : {0666u, 0644u}) {
    listener_options o;
    o.mode = mode;
    auto l = listener::listen(unique_name("dacl-chan"), o);
    expect_only_the_owner_creates_instances(l.native_handle(), (mode & 022) != 0,
                                            mode == 0666u ? "listener 0666" : "listener 0644");
  }
}

// ---- open (FIFO-OPEN-*)
// ---------------------------------------------------------------------------

// NPIPE_REQ: FIFO-OPEN-6
TEST(Win32Fifo, PeerOpenOfMissingNameIsNotFound) {  // FIFO-OPEN-6
  EXPECT_NPIPE_ERROR(open_fifo(unique_name("missing"), direction::write), errc::not_found);
  EXPECT_NPIPE_ERROR(open_fifo(unique_name("missing"), direction::read, deadline::immediate()),
                     errc::not_found);
}

// NPIPE_REQ: FIFO-OPEN-3 FIFO-OPEN-5
TEST(Win32Fifo, OwnerOpenTimesOutThenStillWorks) {  // FIFO-OPEN-3, FIFO-OPEN-5 (Windows owner)
  npipe::test::watchdog dog(60s);
  const std::string name = unique_name("timeout");
  auto owner = fifo_owner::create(name, direction::read);
  EXPECT_NPIPE_ERROR(owner.open(deadline::immediate()), errc::would_block);
  auto start = std::chrono::steady_clock::now();
  EXPECT_NPIPE_ERROR(owner.open(deadline::after(300ms)), errc::timeout);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 290ms);
  EXPECT_LT(took, 5s);
  // The cancelled connect left the instance listening: a peer still meets the owner.
  auto child = process::spawn_self("w32_fifo_writer", {name, "5"});
  auto end = owner.open(deadline::after(kReply));
  expect_line(child, "done");
  EXPECT_EQ(read_all(end), pattern(5));
  EXPECT_EQ(child.wait(kReply), 0);
}

TEST(Win32Fifo,
     PeerOpenCompletesOnceTheOwnerCreated) {  // FIFO-OPEN-11: the name IS the owner's end
  const std::string name = unique_name("early");
  auto owner = fifo_owner::create(name, direction::read);
  // No owner.open() yet: the client still gets in (Windows), the owner's open then completes
  // at once with ERROR_PIPE_CONNECTED.
  auto writer = open_fifo(name, direction::write, deadline::immediate());
  auto end = owner.open(deadline::immediate());
  writer.write_all("x", 1);
  writer.close();
  EXPECT_EQ(read_all(end), "x");
}

// NPIPE_REQ: FIFO-OPEN-4
TEST(Win32Fifo, BusyInstanceIsWouldBlockOrTimeout) {  // FIFO-OPEN-4 analogue, FIFO-MULTI-1
  const std::string name = unique_name("busy");
  auto owner = fifo_owner::create(name, direction::read);
  auto first = open_fifo(name, direction::write, deadline::immediate());
  auto c = catch_error([&] { open_fifo(name, direction::write, deadline::immediate()); });
  EXPECT_EQ(c.code, errc::would_block) << c.what;
  EXPECT_EQ(c.native, "ERROR_PIPE_BUSY");
  auto start = std::chrono::steady_clock::now();
  EXPECT_NPIPE_ERROR(open_fifo(name, direction::write, deadline::after(300ms)), errc::timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(Win32Fifo, WrongDirectionIsPermissionDenied) {
  const std::string name = unique_name("dir");
  auto owner = fifo_owner::create(name, direction::read);
  auto c = catch_error([&] { open_fifo(name, direction::read, deadline::immediate()); });
  EXPECT_EQ(c.code, errc::permission_denied) << c.what;
  EXPECT_EQ(c.native, "ERROR_ACCESS_DENIED");
}

// ---- data, EOF, broken pipe --------------------------------------------------------------------

// NPIPE_REQ: FIFO-IO-1 FIFO-EOF-1 FIFO-OPEN-1
TEST(Win32Fifo, LargeTransferThenEof) {  // FIFO-IO-1, FIFO-EOF-1, FIFO-OPEN-1
  npipe::test::watchdog dog(90s);
  const std::string name = unique_name("large");
  auto owner = fifo_owner::create(name, direction::read);
  const std::size_t size = 3 * 1024 * 1024 + 17;
  auto child = process::spawn_self("w32_fifo_writer", {name, std::to_string(size)});
  auto end = owner.open(deadline::after(kReply));
  std::string got = read_all(end, deadline::after(60s));
  EXPECT_EQ(got.size(), size);
  EXPECT_TRUE(got == pattern(size));
  expect_line(child, "done");
  EXPECT_EQ(child.wait(kReply), 0);
}

TEST(Win32Fifo,
     WriterThatLeftBeforeOwnerOpenIsStillRead) {  // FIFO-OPEN-11: ERROR_NO_DATA at connect
  npipe::test::watchdog dog(60s);
  const std::string name = unique_name("nodata");
  auto owner = fifo_owner::create(name, direction::read);
  auto child = process::spawn_self("w32_fifo_writer", {name, "1000"});
  expect_line(child, "done");
  ASSERT_EQ(child.wait(kReply), 0);
  // The client connected, wrote and closed before ConnectNamedPipe: ERROR_NO_DATA, a success.
  auto end = owner.open(deadline::immediate());
  EXPECT_EQ(read_all(end), pattern(1000)) << "the data of a client that already left is lost";
  std::cout << "WINE-FACT nodata-at-connect: data written before the client left is readable\n";
}

// NPIPE_REQ: FIFO-IO-3
TEST(Win32Fifo, ReadWithDeadlineOnEmptyPipe) {  // FIFO-IO-3
  const std::string name = unique_name("emptyread");
  auto owner = fifo_owner::create(name, direction::read);
  auto writer = open_fifo(name, direction::write, deadline::immediate());
  auto end = owner.open(deadline::immediate());
  char buf[16];
  EXPECT_NPIPE_ERROR(end.read(buf, sizeof buf, deadline::immediate()), errc::would_block);
  auto start = std::chrono::steady_clock::now();
  EXPECT_NPIPE_ERROR(end.read(buf, sizeof buf, deadline::after(200ms)), errc::timeout);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 190ms);
  // Still usable after the cancelled read.
  writer.write_all("abc", 3);
  EXPECT_EQ(end.read(buf, sizeof buf, deadline::after(kReply)), 3u);
}

// NPIPE_REQ: FIFO-IO-4
TEST(Win32Fifo, WriteToFullPipeBlocksUntilReaderMakesRoom) {  // FIFO-IO-4
  npipe::test::watchdog dog(60s);
  const std::string name = unique_name("full");
  auto owner = fifo_owner::create(name, direction::write);
  auto reader = open_fifo(name, direction::read, deadline::immediate());
  auto end = owner.open(deadline::immediate());
  const std::string big = pattern(4 * 1024 * 1024);
  // Nobody reads: the write cannot complete; with a deadline it stops part-way or times out.
  std::size_t first = 0;
  auto c = catch_error([&] { first = end.write(big.data(), big.size(), deadline::after(300ms)); });
  if (c.thrown) {
    EXPECT_EQ(c.code, errc::timeout) << c.what;
  } else {
    EXPECT_LT(first, big.size());
  }
  std::cout << "WINE-FACT full-pipe-write-with-deadline: "
            << (c.thrown ? "timeout, nothing written" : "partial " + std::to_string(first)) << "\n";
  // A reader makes room: the rest goes through.
  std::string got;
  auto drain = std::async(std::launch::async, [&] {
    char buf[65536];
    for (;;) {
      std::size_t n = reader.read(buf, sizeof buf, deadline::after(kReply));
      if (n == 0) break;
      got.append(buf, n);
    }
  });
  end.write_all(big.data() + first, big.size() - first);
  end.close();
  drain.get();
  EXPECT_EQ(got.size(), big.size());
  EXPECT_TRUE(got == big);
}

// NPIPE_REQ: FIFO-PIPE-1
TEST(Win32Fifo, WriteAfterReaderLeftIsBrokenPipe) {  // FIFO-PIPE-1
  npipe::test::watchdog dog(60s);
  const std::string name = unique_name("broken");
  auto owner = fifo_owner::create(name, direction::write);
  auto child = process::spawn_self("w32_fifo_reader", {name, "3"});
  auto end = owner.open(deadline::after(kReply));
  end.write_all("abc", 3);
  expect_line(child, "read 3");
  ASSERT_EQ(child.wait(kReply), 0);
  auto c = catch_error([&] { end.write("more", 4); });
  EXPECT_EQ(c.code, errc::broken_pipe) << c.what;
  std::cout << "WINE-FACT write-after-reader-left-native: " << c.native << "\n";
}

// NPIPE_REQ: FIFO-LIFE-2
TEST(Win32Fifo, OwnerKilledGivesPeerEofAndBrokenPipe) {  // FIFO-LIFE-2
  npipe::test::watchdog dog(60s);
  {
    const std::string name = unique_name("killw");
    auto child = process::spawn_self("w32_fifo_owner", {name, "w"});
    expect_line(child, "ready");
    auto reader = open_fifo(name, direction::read, deadline::after(kReply));
    expect_line(child, "open");
    auto blocked = std::async(std::launch::async, [&] {
      char buf[16];
      return reader.read(buf, sizeof buf, deadline::after(kReply));
    });
    EXPECT_EQ(blocked.wait_for(300ms), std::future_status::timeout) << "read did not block";
    child.kill();
    EXPECT_EQ(blocked.get(), 0u);
  }
  {
    const std::string name = unique_name("killr");
    auto child = process::spawn_self("w32_fifo_owner", {name, "r"});
    expect_line(child, "ready");
    auto writer = open_fifo(name, direction::write, deadline::after(kReply));
    expect_line(child, "open");
    child.kill();
    child.wait(kReply);
    EXPECT_NPIPE_ERROR(writer.write("x", 1), errc::broken_pipe);
  }
}

// ---- removal and lifetime -----------------------------------------------------------------------

// NPIPE_REQ: FIFO-REMOVE-2
TEST(Win32Fifo, RemoveBeforeOpenMakesTheNameVanish) {  // FIFO-REMOVE-2
  const std::string name = unique_name("remove");
  auto owner = fifo_owner::create(name, direction::read);
  owner.remove();
  EXPECT_NPIPE_ERROR(open_fifo(name, direction::write, deadline::immediate()), errc::not_found);
  EXPECT_NPIPE_ERROR(owner.open(deadline::immediate()), errc::not_found);
  owner.remove();  // idempotent
  // The name is free again.
  EXPECT_NO_THROW(fifo_owner::create(name, direction::read));
}

// NPIPE_REQ: FIFO-REMOVE-1 FIFO-REMOVE-2
TEST(Win32Fifo, RemoveAfterOpenLeavesTheNameWithTheEnd) {  // FIFO-REMOVE-1/-2 on Windows
  const std::string name = unique_name("removeopen");
  auto owner = fifo_owner::create(name, direction::read);
  auto writer = open_fifo(name, direction::write, deadline::immediate());
  auto end = owner.open(deadline::immediate());
  owner.remove();
  // Ends already open keep working.
  writer.write_all("ok", 2);
  char buf[8];
  EXPECT_EQ(end.read(buf, sizeof buf, deadline::after(kReply)), 2u);
  // The name lives as long as the owner's end (a server handle): a new open finds it busy.
  auto c = catch_error([&] { open_fifo(name, direction::write, deadline::immediate()); });
  EXPECT_EQ(c.code, errc::would_block) << c.what;
  end.close();
  EXPECT_NPIPE_ERROR(open_fifo(name, direction::write, deadline::immediate()), errc::not_found);
}

// NPIPE_REQ: FIFO-LIFE-1
TEST(Win32Fifo, NameVanishesWithItsOwnerProcess) {  // FIFO-LIFE-1
  const std::string name = unique_name("life");
  auto child = process::spawn_self("w32_fifo_create_and_exit", {name});
  expect_line(child, "ready");
  ASSERT_EQ(child.wait(kReply), 0);
  EXPECT_NPIPE_ERROR(open_fifo(name, direction::write, deadline::immediate()), errc::not_found);
  EXPECT_NO_THROW(fifo_owner::create(name, direction::read));
}

// NPIPE_REQ: FIFO-EOF-3
TEST(Win32Fifo, OwnerReopenAfterEndClosedMakesANewInstance) {  // FIFO-EOF-3 (Windows)
  const std::string name = unique_name("reopen");
  auto owner = fifo_owner::create(name, direction::read);
  {
    auto w = open_fifo(name, direction::write, deadline::immediate());
    auto end = owner.open(deadline::immediate());
    w.write_all("1", 1);
    w.close();
    EXPECT_EQ(read_all(end), "1");
    // While the first end is open, a second open cannot make the name again.
    EXPECT_NPIPE_ERROR(owner.open(deadline::immediate()), errc::already_exists);
  }
  // The first end closed: the name is gone until the owner opens again, which makes it anew.
  EXPECT_NPIPE_ERROR(open_fifo(name, direction::write, deadline::immediate()), errc::not_found);
  EXPECT_NPIPE_ERROR(owner.open(deadline::immediate()), errc::would_block);
  auto w2 = open_fifo(name, direction::write, deadline::immediate());
  auto end2 = owner.open(deadline::immediate());
  w2.write_all("2", 1);
  w2.close();
  EXPECT_EQ(read_all(end2), "2");
}

TEST(Win32Fifo, PipeBufIsThePosixMinimum) {
  EXPECT_EQ(fifo_end::pipe_buf(), 512u);
}

#endif  // _WIN32
