// The POSIX errno mapping behind every FIFO error (spec ERR-1, ERR-2).
#ifndef _WIN32

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "fifo_test_helpers.hpp"
#include "npipe/npipe.hpp"
#include "posix/errors.hpp"

namespace {

using npipe::errc;
using npipe::posix::errc_from_errno;
using npipe::posix::errno_name;

// NPIPE_REQ: ERR-1
TEST(FifoErrors, ErrnoMapsToThePortableVocabulary) {
  struct row {
    int err;
    errc code;
  };
  for (row r : {row{ENOENT, errc::not_found},          row{ENOTDIR, errc::not_found},
                row{ECONNREFUSED, errc::not_found},    row{EEXIST, errc::already_exists},
                row{EADDRINUSE, errc::already_exists}, row{ENXIO, errc::would_block},
                row{EAGAIN, errc::would_block},        row{EWOULDBLOCK, errc::would_block},
                row{EPIPE, errc::broken_pipe},         row{ECONNRESET, errc::broken_pipe},
                row{EACCES, errc::permission_denied},  row{EPERM, errc::permission_denied},
                row{EROFS, errc::permission_denied},   row{ENAMETOOLONG, errc::invalid_name},
                row{ETIMEDOUT, errc::timeout},         row{EISDIR, errc::not_a_pipe},
                row{ENOTSOCK, errc::not_a_pipe},       row{EMSGSIZE, errc::message_too_long},
                row{EOPNOTSUPP, errc::unsupported},    row{EIO, errc::io_error},
                row{ENOSPC, errc::io_error},           row{EMFILE, errc::io_error}}) {
    EXPECT_EQ(errc_from_errno(r.err), r.code) << errno_name(r.err);
  }
  // Anything unknown is io_error, never an out-of-vocabulary value.
  EXPECT_EQ(errc_from_errno(0), errc::io_error);
  EXPECT_EQ(errc_from_errno(99999), errc::io_error);
  for (int e = 0; e < 200; ++e) {
    const int v = static_cast<int>(errc_from_errno(e));
    EXPECT_TRUE(v >= static_cast<int>(errc::not_found) && v <= static_cast<int>(errc::io_error));
  }
}

// NPIPE_REQ: ERR-2
TEST(FifoErrors, NativeCodeAndNameAreKeptBesideThePortableOne) {
  EXPECT_STREQ(errno_name(ENOENT), "ENOENT");
  EXPECT_STREQ(errno_name(EPIPE), "EPIPE");
  EXPECT_STREQ(errno_name(99999), "");
  const npipe::error e = npipe::posix::make_errno_error(ENOENT, "open FIFO 'x/y'");
  EXPECT_EQ(e.value(), errc::not_found);
  EXPECT_EQ(e.native(), ENOENT);
  EXPECT_EQ(e.native_name(), "ENOENT");
  EXPECT_NE(e.message().find("'x/y'"), std::string::npos);
  EXPECT_NE(std::string(e.what()).find("not_found: "), std::string::npos);
  const npipe::error ctx = npipe::posix::make_errno_error(errc::not_a_pipe, ELOOP, "open 'l'");
  EXPECT_EQ(ctx.value(), errc::not_a_pipe);
  EXPECT_EQ(ctx.native_name(), "ELOOP");
  const npipe::error unknown = npipe::posix::make_errno_error(99999, "op");
  EXPECT_EQ(unknown.value(), errc::io_error);
  EXPECT_NE(unknown.message().find("99999"), std::string::npos);
}

// NPIPE_REQ: ERR-1 ERR-2
TEST(FifoErrors, LibraryCallsReportNativeCodesWithThePath) {
  npipe::test::temp_dir dir;
  const std::string path = dir.file("none");
  try {
    npipe::open_fifo(path, npipe::direction::read, npipe::deadline::immediate());
    FAIL();
  } catch (const npipe::error& e) {
    EXPECT_EQ(e.value(), errc::not_found);
    EXPECT_EQ(e.native(), ENOENT);
    EXPECT_NE(e.message().find(path), std::string::npos) << e.what();
  }
  try {
    npipe::fifo_owner::create(dir.file("no/such/dir"), npipe::direction::read);
    FAIL();
  } catch (const npipe::error& e) {
    EXPECT_EQ(e.value(), errc::not_found);
    EXPECT_EQ(e.native_name(), "ENOENT");
  }
}

}  // namespace

#endif  // _WIN32
