// KeySlot must agree byte for byte with Redis Cluster's keyHashSlot, since
// cluster-aware clients compute slots themselves. Vectors come from the Redis
// Cluster spec and from redis-cli CLUSTER KEYSLOT.
#include "ring/key_slot.h"

#include <catch2/catch.hpp>
#include <string>

namespace ringkv::ring {
namespace {

TEST_CASE("Crc16 XMODEM check value", "[ring]") {
  CHECK(Crc16("123456789") == 0x31C3);
  CHECK(Crc16("") == 0);
}

TEST_CASE("KeySlot matches Redis vectors", "[ring]") {
  CHECK(KeySlot("foo") == 12182);
  CHECK(KeySlot("bar") == 5061);
  CHECK(KeySlot("hello") == 866);
  CHECK(KeySlot("") == 0);
  CHECK(KeySlot("123456789") == (0x31C3 & 16383));
}

TEST_CASE("KeySlot hash tags follow Redis rules", "[ring]") {
  CHECK(KeySlot("{user1000}.following") == KeySlot("{user1000}.followers"));
  CHECK(KeySlot("{user1000}.following") == KeySlot("user1000"));
  // Empty first tag: the whole key is hashed, later tags are ignored.
  CHECK(HashTag("foo{}{bar}") == "foo{}{bar}");
  CHECK(KeySlot("foo{}{bar}") == Crc16("foo{}{bar}") % 16384);
  // The tag runs from the first '{' to the first '}' after it.
  CHECK(HashTag("foo{{bar}}zap") == "{bar");
  CHECK(KeySlot("foo{{bar}}zap") == KeySlot("{bar"));
  CHECK(HashTag("foo{bar}{zap}") == "bar");
  CHECK(HashTag("foo{bar") == "foo{bar");
  CHECK(HashTag("foo}bar{") == "foo}bar{");
  CHECK(HashTag("}{x}") == "x");
}

TEST_CASE("KeySlot is binary safe and in range", "[ring]") {
  std::string key("a\0b", 3);
  CHECK(KeySlot(key) != KeySlot("a"));
  for (int i = 0; i < 1000; ++i) {
    CHECK(KeySlot("key:" + std::to_string(i)) < kNumSlots);
  }
}

// The bit-at-a-time definition, to check the sliced tables against: every
// length around the 8-byte stride, every byte value, in several positions.
uint16_t Crc16Bitwise(std::string_view data) {
  uint16_t crc = 0;
  for (unsigned char c : data) {
    crc = static_cast<uint16_t>(crc ^ (c << 8));
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
    }
  }
  return crc;
}

TEST_CASE("Crc16 equals the bitwise CRC for every length and byte", "[ring]") {
  uint64_t x = 0x9e3779b97f4a7c15ull;
  auto next_byte = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return static_cast<char>(x & 0xff);
  };
  for (size_t len = 0; len <= 70; ++len) {
    for (int round = 0; round < 20; ++round) {
      std::string s;
      for (size_t i = 0; i < len; ++i) s.push_back(next_byte());
      REQUIRE(Crc16(s) == Crc16Bitwise(s));
    }
  }
  for (int b = 0; b < 256; ++b) {
    for (size_t pos = 0; pos < 17; ++pos) {
      std::string s(17, 'k');
      s[pos] = static_cast<char>(b);
      REQUIRE(Crc16(s) == Crc16Bitwise(s));
    }
  }
}

}  // namespace
}  // namespace ringkv::ring
