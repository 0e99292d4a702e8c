// Names: the portable-name rule and the mapping to platform names (spec NAME-1..3).
#include <gtest/gtest.h>

#include <string>

#include "npipe/npipe.hpp"

#ifndef _WIN32
#include <limits.h>
#include <sys/un.h>
#include <unistd.h>

#include "support.hpp"
#endif

namespace {

using npipe::errc;
using npipe::is_portable_name;
using npipe::name_kind;
using npipe::platform_name;

[[maybe_unused]] std::string invalid_name_message(std::string_view name, name_kind kind) {
  try {
    platform_name(name, kind);
  } catch (const npipe::error& e) {
    EXPECT_EQ(e.value(), errc::invalid_name) << e.what();
    return e.message();
  }
  ADD_FAILURE() << "accepted a name of " << name.size() << " bytes";
  return {};
}

// NPIPE_REQ: NAME-1
TEST(Name, PortableNameRule) {
  for (const char* ok : {"a", "jobs", "jobs.sock", "A-b_c.9", "0", "x.", "-dash"}) {
    EXPECT_TRUE(is_portable_name(ok)) << ok;
  }
  EXPECT_TRUE(is_portable_name(std::string(80, 'n')));
  EXPECT_FALSE(is_portable_name(std::string(81, 'n')));
  for (const char* bad : {"", ".", "..", ".hidden", "a/b", "/abs", "sp ace", "tab\t", "é", "a\\b",
                          "a:b", "q?", "star*"}) {
    EXPECT_FALSE(is_portable_name(bad)) << bad;
  }
  EXPECT_FALSE(is_portable_name(std::string_view("a\0b", 3)));
}

#ifndef _WIN32

// NPIPE_REQ: NAME-1
TEST(Name, PortableNameIsAPathRelativeToTheCurrentDirectory) {
  EXPECT_EQ(platform_name("jobs", name_kind::fifo), "jobs");
  EXPECT_EQ(platform_name("jobs.sock", name_kind::channel), "jobs.sock");
  // And the FIFO really appears there.
  npipe::test::temp_dir dir;
  char cwd[PATH_MAX];
  ASSERT_NE(::getcwd(cwd, sizeof cwd), nullptr);
  ASSERT_EQ(::chdir(dir.path().c_str()), 0);
  bool created = false;
  {
    npipe::fifo_owner owner = npipe::fifo_owner::create("name-test.fifo", npipe::direction::read);
    created = ::access((dir.path() + "/name-test.fifo").c_str(), F_OK) == 0;
  }
  ASSERT_EQ(::chdir(cwd), 0);
  EXPECT_TRUE(created);
}

// NPIPE_REQ: NAME-2
TEST(Name, RawPathIsUsedAsGiven) {
  for (const char* raw :
       {"/tmp/x", "./rel/dir/p", "../up", "with space", ".hidden", "a//b/", "/tmp/é"}) {
    EXPECT_EQ(platform_name(raw, name_kind::fifo), raw);
  }
  EXPECT_EQ(platform_name("/tmp/short.sock", name_kind::channel), "/tmp/short.sock");
}

// NPIPE_REQ: NAME-3
TEST(Name, UnrepresentableNamesGiveInvalidNameSayingWhy) {
  EXPECT_NE(invalid_name_message("", name_kind::fifo).find("empty"), std::string::npos);
  EXPECT_NE(invalid_name_message(std::string_view("ab\0c", 4), name_kind::fifo).find("NUL"),
            std::string::npos);
  EXPECT_NE(invalid_name_message(std::string_view("\0abstract", 9), name_kind::channel).find("NUL"),
            std::string::npos);
  const std::string too_long(PATH_MAX, 'p');
  EXPECT_NE(invalid_name_message(too_long, name_kind::fifo).find(std::to_string(PATH_MAX)),
            std::string::npos);
  EXPECT_EQ(platform_name(std::string(PATH_MAX - 1, 'p'), name_kind::fifo).size(),
            static_cast<std::size_t>(PATH_MAX - 1));
}

// NPIPE_REQ: NAME-3
TEST(Name, ChannelPathLongerThanSunPathGivesBothLengths) {
  const std::size_t limit = sizeof(sockaddr_un{}.sun_path) - 1;
  EXPECT_EQ(platform_name(std::string(limit, 's'), name_kind::channel).size(), limit);
  const std::string message = invalid_name_message(std::string(limit + 1, 's'), name_kind::channel);
  EXPECT_NE(message.find(std::to_string(limit + 1)), std::string::npos) << message;
  EXPECT_NE(message.find(std::to_string(limit)), std::string::npos) << message;
  // The same length is fine for a FIFO: only sockets have the limit.
  EXPECT_EQ(platform_name(std::string(limit + 1, 's'), name_kind::fifo).size(), limit + 1);
}

// NPIPE_REQ: NAME-3
TEST(Name, InvalidNameCreatesNothing) {
  npipe::test::temp_dir dir;
  const std::string with_nul = dir.path() + std::string("/a\0b", 4);
  const std::string too_long = dir.path() + "/" + std::string(PATH_MAX, 'l');
  for (const std::string& name : {std::string(), with_nul, too_long}) {
    try {
      npipe::fifo_owner::create(name, npipe::direction::read);
      FAIL() << "created a FIFO with an invalid name";
    } catch (const npipe::error& e) {
      EXPECT_EQ(e.value(), errc::invalid_name) << e.what();
    }
  }
  EXPECT_NE(::access((dir.path() + "/a").c_str(), F_OK), 0) << "the name was cut at the NUL";
}

#endif  // _WIN32

}  // namespace
