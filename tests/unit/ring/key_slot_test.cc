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

}  // namespace
}  // namespace ringkv::ring
