// Round-trips every coding helper and checks that truncated input is refused.
#include <catch2/catch.hpp>

#include "storage/base/coding.h"

using namespace ringkv;

TEST_CASE("varint64 round trip and truncation", "[storage][base]") {
  std::string buf;
  std::vector<uint64_t> values = {0, 1, 127, 128, 300, 16383, 16384, (1ull << 32) - 1, 1ull << 32,
                                  ~0ull};
  for (uint64_t v : values) PutVarint64(&buf, v);
  std::string_view in(buf);
  for (uint64_t v : values) {
    uint64_t got = 0;
    REQUIRE(GetVarint64(&in, &got));
    REQUIRE(got == v);
  }
  REQUIRE(in.empty());
  std::string one;
  PutVarint64(&one, 1ull << 40);
  std::string_view cut(one.data(), one.size() - 1);
  uint64_t got;
  REQUIRE_FALSE(GetVarint64(&cut, &got));
}

TEST_CASE("varint32 rejects values over 32 bits", "[storage][base]") {
  std::string buf;
  PutVarint64(&buf, 1ull << 33);
  std::string_view in(buf);
  uint32_t v;
  REQUIRE_FALSE(GetVarint32(&in, &v));
}

TEST_CASE("fixed and length-prefixed round trip", "[storage][base]") {
  std::string buf;
  PutFixed32(&buf, 0xdeadbeef);
  PutFixed64(&buf, 0x0123456789abcdefull);
  PutLengthPrefixed(&buf, "hello");
  PutLengthPrefixed(&buf, "");
  std::string_view in(buf);
  uint32_t a;
  uint64_t b;
  std::string_view s1, s2;
  REQUIRE(GetFixed32(&in, &a));
  REQUIRE(GetFixed64(&in, &b));
  REQUIRE(GetLengthPrefixed(&in, &s1));
  REQUIRE(GetLengthPrefixed(&in, &s2));
  REQUIRE(a == 0xdeadbeef);
  REQUIRE(b == 0x0123456789abcdefull);
  REQUIRE(s1 == "hello");
  REQUIRE(s2.empty());
  REQUIRE(in.empty());
  std::string bad;
  PutVarint32(&bad, 10);
  bad += "abc";
  std::string_view bin(bad);
  REQUIRE_FALSE(GetLengthPrefixed(&bin, &s1));
}
