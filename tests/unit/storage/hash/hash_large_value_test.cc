// Keys and values at the Redis size limit (512 MiB) through the hash engine.
// Method: one value and one key of exactly 512 MiB, written, read back, overwritten
// in place and deleted, with memory accounting checked. Needs about 1.5 GiB of RAM,
// so it is labelled slow.
#include <catch2/catch.hpp>
#include <string>

#include "storage/hash/hash_engine.h"

namespace ringkv::storage::hash {
namespace {

constexpr size_t k512MiB = size_t{512} << 20;

std::string Pattern(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 4096) s[i] = static_cast<char>(seed + i / 4096);
  s[n - 1] = seed;
  return s;
}

TEST_CASE("a 512 MiB value round-trips", "[storage][hash][large]") {
  HashEngine e(EngineOptions{}, 3);
  uint64_t base = e.Stats().memory_bytes;
  {
    std::string value = Pattern(k512MiB, 'a');
    REQUIRE(e.Put("big", value).ok());
    CHECK(e.Stats().memory_bytes >= base + k512MiB);
    std::string got;
    REQUIRE(e.Get("big", &got).ok());
    REQUIRE(got.size() == k512MiB);
    CHECK(got == value);
    // Same length: rewritten in place.
    value = Pattern(k512MiB, 'b');
    REQUIRE(e.Put("big", value).ok());
    REQUIRE(e.Get("big", &got).ok());
    CHECK(got == value);
  }
  REQUIRE(e.Delete("big").ok());
  CHECK(e.Stats().memory_bytes == base);
}

TEST_CASE("a 512 MiB key round-trips", "[storage][hash][large]") {
  HashEngine e(EngineOptions{}, 4);
  std::string key = Pattern(k512MiB, 'k');
  REQUIRE(e.Put(key, "v").ok());
  std::string got;
  REQUIRE(e.Get(key, &got).ok());
  CHECK(got == "v");
  key[k512MiB / 2] ^= 1;
  CHECK(e.Get(key, &got).IsNotFound());
  key[k512MiB / 2] ^= 1;
  REQUIRE(e.Delete(key).ok());
  CHECK(e.ApproximateCount() == 0);
}

}  // namespace
}  // namespace ringkv::storage::hash
