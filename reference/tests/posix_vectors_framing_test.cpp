// The POSIX Channel's receive path against the framing vectors of spec/vectors/framing.json: the
// vector's wire bytes are written raw into a real connection (then the writer shuts down), and the
// reference's recv_bytes must deliver exactly the vector's messages, then its EOF or error
// (CHAN-FRAME-1, -2, -4, CHAN-EOF-1, -2, CHAN-RECV-1).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "npipe/channel.hpp"
#include "npipe/error.hpp"
#include "spec_data.hpp"
#include "support.hpp"

namespace {

using json = nlohmann::json;

std::vector<std::uint8_t> unhex(const std::string& s) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoul(s.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::string hex(const npipe::bytes& b) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (auto c : b) {
    s += digits[static_cast<std::uint8_t>(c) >> 4];
    s += digits[static_cast<std::uint8_t>(c) & 15];
  }
  return s;
}

}  // namespace

// NPIPE_REQ: CHAN-FRAME-2 CHAN-FRAME-3 CHAN-FRAME-4 CHAN-EOF-1 CHAN-EOF-2 CHAN-RECV-1
TEST(PosixVectors, ReceiverDecodesEveryFramingVector) {
  npipe::test::watchdog dog(std::chrono::seconds(30), "framing vectors");
  npipe::test::temp_dir dir;
  const std::string address = dir.file("vectors.sock");
  auto listener = npipe::listener::listen(address);
  int n = 0;
  const json doc = json::parse(spec_vectors_framing_json);
  for (const auto& c : doc.at("cases")) {
    if (c.at("direction") != "decode") continue;
    ++n;
    const std::string name = c.at("name");
    auto client = npipe::connection::connect(address);
    auto server = listener.accept(npipe::deadline::after(std::chrono::seconds(5)));
    const auto wire = unhex(c.at("wire_hex"));
    ASSERT_EQ(::write(client.native_handle(), wire.data(), wire.size()),
              static_cast<ssize_t>(wire.size()))
        << name;
    ASSERT_EQ(::shutdown(client.native_handle(), SHUT_WR), 0) << name;
    const std::size_t maxlength =
        c.contains("maxlength") ? c.at("maxlength").get<std::size_t>() : SIZE_MAX;
    const json& want = c.at("result");
    std::vector<std::string> got;
    std::string then;
    for (;;) {
      try {
        auto m = server.recv_bytes(maxlength, npipe::deadline::after(std::chrono::seconds(5)));
        if (!m) {
          then = "eof";
          break;
        }
        got.push_back(hex(*m));
      } catch (const npipe::error& e) {
        then = npipe::errc_name(e.value());
        break;
      }
    }
    if (want.contains("error")) {
      EXPECT_TRUE(got.empty()) << name;
      EXPECT_EQ(then, want.at("error").get<std::string>()) << name;
    } else {
      EXPECT_EQ(got, want.at("messages_hex").get<std::vector<std::string>>()) << name;
      EXPECT_EQ(then, want.at("then").get<std::string>()) << name;
    }
  }
  EXPECT_GE(n, 15);
}
