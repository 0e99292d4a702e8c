// The portable error vocabulary (spec: ERR-1, ERR-3).
#include <gtest/gtest.h>

#include "npipe/error.hpp"

TEST(Error, NamesRoundTrip) {
  for (int i = 1; i <= 13; ++i) {
    auto e = static_cast<npipe::errc>(i);
    npipe::errc back{};
    ASSERT_TRUE(npipe::errc_from_name(npipe::errc_name(e), back)) << i;
    EXPECT_EQ(back, e);
  }
  npipe::errc out{};
  EXPECT_FALSE(npipe::errc_from_name("no_such_error", out));
}

TEST(Error, WhatStartsWithPortableName) {
  npipe::error e(npipe::errc::not_a_pipe, "/tmp/x is a regular file", 0, "");
  EXPECT_STREQ(e.what(), "not_a_pipe: /tmp/x is a regular file");
  EXPECT_EQ(e.code(), npipe::errc::not_a_pipe);
  EXPECT_EQ(e.value(), npipe::errc::not_a_pipe);
}
