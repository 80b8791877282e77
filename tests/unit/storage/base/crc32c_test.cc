// Checks CRC32C against the RFC 3720 test vectors and the incremental API.
#include <catch2/catch.hpp>

#include <string>

#include "storage/base/crc32c.h"

using namespace ringkv;

TEST_CASE("crc32c standard vectors", "[storage][base]") {
  std::string zeros(32, '\0');
  REQUIRE(crc32c::Value(zeros) == 0x8a9136aau);
  std::string ones(32, '\xff');
  REQUIRE(crc32c::Value(ones) == 0x62a8ab43u);
  std::string inc(32, 0);
  for (int i = 0; i < 32; i++) inc[i] = static_cast<char>(i);
  REQUIRE(crc32c::Value(inc) == 0x46dd794eu);
  REQUIRE(crc32c::Value(std::string_view("123456789")) == 0xe3069283u);
}

TEST_CASE("crc32c extend equals whole and mask round trips", "[storage][base]") {
  std::string data = "hello world, this is ringkv checksumming";
  for (size_t split = 0; split <= data.size(); split++) {
    uint32_t a = crc32c::Value(data.data(), split);
    REQUIRE(crc32c::Extend(a, data.data() + split, data.size() - split) == crc32c::Value(data));
  }
  uint32_t c = crc32c::Value(data);
  REQUIRE(crc32c::Mask(c) != c);
  REQUIRE(crc32c::Unmask(crc32c::Mask(c)) == c);
}
