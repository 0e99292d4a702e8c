// npipe::bytes, the buffer recv_bytes() returns: resize() must not zero what it adds, so that a
// received message is written once (by the receive) instead of zeroed first and then overwritten
// (CHAN-RECV-5's cost; `make bench`: recv_bytes against the C loop with a new buffer each).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "npipe/channel.hpp"

// NPIPE_REQ: CHAN-RECV-5
TEST(Bytes, ResizeLeavesNewBytesUnwritten) {
  npipe::bytes b;
  b.assign(4096, std::uint8_t{0xAB});
  b.resize(0);  // the capacity stays, with 0xAB in it
  ASSERT_GE(b.capacity(), 4096u);
  b.resize(4096);  // std::vector's allocator would zero all 4096 bytes here
  std::size_t untouched = 0;
  for (std::uint8_t x : b)
    untouched += x == 0xAB;  // unsigned char: reading them is defined
  EXPECT_EQ(untouched, 4096u) << "resize() wrote over the bytes it added";
}

TEST(Bytes, BehavesAsAVectorOfBytes) {
  const std::uint8_t raw[] = {1, 2, 3};
  npipe::bytes b(raw, raw + 3);
  b.push_back(4);
  b.resize(6, std::uint8_t{9});  // an explicit value is still written
  EXPECT_EQ(std::vector<std::uint8_t>(b.begin(), b.end()),
            (std::vector<std::uint8_t>{1, 2, 3, 4, 9, 9}));
  npipe::bytes copy = b;
  EXPECT_EQ(copy, b);
  npipe::bytes moved = std::move(copy);
  EXPECT_EQ(moved.size(), 6u);
}
