// The driver protocol's encodings (spec/driver-protocol.md, section 3): base64, patterns, digests.
#include <gtest/gtest.h>
#ifndef _WIN32
#include <openssl/sha.h>  // an independent SHA-256 to compare with (no OpenSSL on Windows)
#endif

#include <algorithm>
#include <string>
#include <vector>

#include "protocol/codec.hpp"

using namespace npipe::protocol;

TEST(ProtocolCodec, Base64KnownVectors) {
  // RFC 4648, section 10.
  const char* vectors[][2] = {{"", ""},
                              {"f", "Zg=="},
                              {"fo", "Zm8="},
                              {"foo", "Zm9v"},
                              {"foob", "Zm9vYg=="},
                              {"fooba", "Zm9vYmE="},
                              {"foobar", "Zm9vYmFy"}};
  for (auto& v : vectors) {
    EXPECT_EQ(base64_encode(v[0]), v[1]);
    auto back = base64_decode(v[1]);
    ASSERT_TRUE(back.has_value()) << v[1];
    EXPECT_EQ(*back, v[0]);
  }
}

TEST(ProtocolCodec, Base64RejectsMalformed) {
  for (const char* bad : {"Zg=", "Z===", "Zg==Zg==", "Zm9v!A==", "=Zm9", "Zm=v"}) {
    EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
  }
}

TEST(ProtocolCodec, Base64AllBytesRoundTrip) {
  std::string all;
  for (int i = 0; i < 256; ++i)
    all += static_cast<char>(i);
  for (std::size_t len = 0; len <= all.size(); len += 37) {
    auto back = base64_decode(base64_encode(all.substr(0, len)));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, all.substr(0, len));
  }
}

TEST(ProtocolCodec, PatternFollowsTheFormulaAcrossOffsets) {
  std::vector<std::uint8_t> whole(1000), tail(500);
  fill_pattern(whole.data(), whole.size(), 7);
  fill_pattern(tail.data(), tail.size(), 7, 500);
  for (std::size_t i = 0; i < whole.size(); ++i) {
    ASSERT_EQ(whole[i], static_cast<std::uint8_t>((7 + i % 251) % 256)) << i;
  }
  EXPECT_TRUE(std::equal(tail.begin(), tail.end(), whole.begin() + 500));
}

TEST(ProtocolCodec, Sha256KnownVectors) {
  sha256 empty;
  EXPECT_EQ(empty.hex_digest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  sha256 abc;
  abc.update("abc", 3);
  EXPECT_EQ(abc.hex_digest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // FIPS 180-2's two-block vector, fed in uneven pieces to cross block edges.
  const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  for (std::size_t piece : {1u, 7u, 55u, 56u}) {
    sha256 h;
    for (std::size_t at = 0; at < two_blocks.size(); at += piece) {
      h.update(two_blocks.data() + at, std::min(piece, two_blocks.size() - at));
    }
    EXPECT_EQ(h.hex_digest(), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        << piece;
  }
#ifndef _WIN32
  // Against OpenSSL's independent implementation, fed in uneven pieces to cross block edges.
  std::string data;
  for (int i = 0; i < 100000; ++i)
    data += static_cast<char>(i * 131 % 256);
  for (std::size_t piece : {1u, 63u, 64u, 65u, 999u}) {
    sha256 ours;
    for (std::size_t at = 0; at < data.size(); at += piece) {
      ours.update(data.data() + at, std::min(piece, data.size() - at));
    }
    unsigned char ref[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), ref);
    std::string hex;
    for (unsigned char c : ref)
      hex += "0123456789abcdef"[c >> 4], hex += "0123456789abcdef"[c & 15];
    EXPECT_EQ(ours.hex_digest(), hex) << piece;
  }
#endif
}
