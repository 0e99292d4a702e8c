// Python's multiprocessing.connection length framing, encoder and incremental decoder (pure).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "common/framing.hpp"

namespace {

using npipe::framing::encode_header;
using npipe::framing::header_decoder;
using status = header_decoder::status;

std::vector<std::uint8_t> encoded(std::uint64_t n) {
  auto h = encode_header(n);
  return {h.bytes.begin(), h.bytes.begin() + static_cast<std::ptrdiff_t>(h.size)};
}

// NPIPE_REQ: CHAN-FRAME-1
TEST(Framing, ShortHeaderIsFourBytesBigEndianSigned) {
  EXPECT_EQ(encoded(0), (std::vector<std::uint8_t>{0, 0, 0, 0}));
  EXPECT_EQ(encoded(5), (std::vector<std::uint8_t>{0, 0, 0, 5}));
  EXPECT_EQ(encoded(0x01020304), (std::vector<std::uint8_t>{1, 2, 3, 4}));
  EXPECT_EQ(encoded(0x7fffffff), (std::vector<std::uint8_t>{0x7f, 0xff, 0xff, 0xff}));
}

// NPIPE_REQ: CHAN-FRAME-2
TEST(Framing, LongerThanInt32MaxUsesTheEscapeThenEightBytes) {
  EXPECT_EQ(encoded(0x80000000ull),
            (std::vector<std::uint8_t>{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0x80, 0, 0, 0}));
  EXPECT_EQ(encoded(0x0102030405060708ull),
            (std::vector<std::uint8_t>{0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8}));
}

// NPIPE_REQ: CHAN-FRAME-1
TEST(Framing, DecoderAcceptsTheHeaderOneByteAtATime) {
  header_decoder d;
  const std::uint8_t bytes[] = {0, 1, 0, 2};
  EXPECT_FALSE(d.started());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(d.feed(&bytes[i], 1), 1u);
    EXPECT_TRUE(d.started());
    EXPECT_EQ(d.state(), status::need_more);
    EXPECT_EQ(d.bytes_needed(), static_cast<std::size_t>(3 - i));
  }
  EXPECT_EQ(d.feed(&bytes[3], 1), 1u);
  ASSERT_EQ(d.state(), status::complete);
  EXPECT_EQ(d.length(), 0x10002u);
  EXPECT_EQ(d.bytes_needed(), 0u);
}

// NPIPE_REQ: CHAN-FRAME-1
TEST(Framing, DecoderNeverTakesPayloadBytes) {
  header_decoder d;
  const std::uint8_t bytes[] = {0, 0, 0, 3, 'a', 'b', 'c'};
  EXPECT_EQ(d.feed(bytes, sizeof bytes), 4u);
  ASSERT_EQ(d.state(), status::complete);
  EXPECT_EQ(d.length(), 3u);
  EXPECT_EQ(d.feed(bytes + 4, 3), 0u);  // complete: takes nothing more
}

// NPIPE_REQ: CHAN-FRAME-2
TEST(Framing, EscapeIsAcceptedForSmallLengthsToo) {
  header_decoder d;
  const std::uint8_t bytes[] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 5, 'x'};
  EXPECT_EQ(d.feed(bytes, sizeof bytes), 12u);
  ASSERT_EQ(d.state(), status::complete);
  EXPECT_EQ(d.length(), 5u);
}

// NPIPE_REQ: CHAN-FRAME-2
TEST(Framing, EscapeFedInPiecesAsksForTheEightByteLength) {
  header_decoder d;
  const std::uint8_t bytes[] = {0xff, 0xff, 0xff, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1};
  EXPECT_EQ(d.feed(bytes, 4), 4u);
  EXPECT_EQ(d.state(), status::need_more);
  EXPECT_EQ(d.bytes_needed(), 8u);
  EXPECT_EQ(d.feed(bytes + 4, 5), 5u);
  EXPECT_EQ(d.bytes_needed(), 3u);
  EXPECT_EQ(d.feed(bytes + 9, 3), 3u);
  ASSERT_EQ(d.state(), status::complete);
  EXPECT_EQ(d.length(), 0x8000000000000001ull);  // the full unsigned 64-bit range is kept
}

// NPIPE_REQ: CHAN-FRAME-4
TEST(Framing, NegativeLengthOtherThanMinusOneIsAnError) {
  for (std::int32_t bad : {-2, -5, -256, INT32_MIN}) {
    header_decoder d;
    auto u = static_cast<std::uint32_t>(bad);
    const std::uint8_t bytes[] = {static_cast<std::uint8_t>(u >> 24),
                                  static_cast<std::uint8_t>(u >> 16),
                                  static_cast<std::uint8_t>(u >> 8), static_cast<std::uint8_t>(u)};
    EXPECT_EQ(d.feed(bytes, 4), 4u);
    EXPECT_EQ(d.state(), status::error) << bad;
    EXPECT_EQ(d.bad_length(), bad);
    EXPECT_EQ(d.bytes_needed(), 0u);
  }
}

// NPIPE_REQ: CHAN-FRAME-1
TEST(Framing, ResetStartsAFreshHeader) {
  header_decoder d;
  const std::uint8_t first[] = {0, 0, 0, 9};
  d.feed(first, 4);
  d.reset();
  EXPECT_FALSE(d.started());
  EXPECT_EQ(d.state(), status::need_more);
  const std::uint8_t second[] = {0, 0, 0, 0};
  d.feed(second, 4);
  ASSERT_EQ(d.state(), status::complete);
  EXPECT_EQ(d.length(), 0u);
}

}  // namespace
