// Bloom filter over the user keys of one SSTable (one filter per table).
//
// Filter format, version 1 (the version lives in the table footer), byte by byte:
//   [0, m/8)     the bit array, m = bits (a multiple of 8, at least 64)
//   [m/8]        uint8 number of probes k (1..30)
// Probes use double hashing of a 64-bit hash: h1 + i * h2 (mod m), the
// Kirsch–Mitzenmacher construction. With 10 bits per key and k = 6 the false
// positive rate is about 0.8%.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ringkv::storage::lsm {

// 64-bit hash of a key (also used by the block cache for sharding).
uint64_t Hash64(std::string_view key);

class BloomFilterBuilder {
 public:
  explicit BloomFilterBuilder(int bits_per_key) : bits_per_key_(bits_per_key) {}
  void AddKey(std::string_view user_key) { hashes_.push_back(Hash64(user_key)); }
  size_t num_keys() const { return hashes_.size(); }
  // Appends the filter for every key added so far to *dst.
  void Finish(std::string* dst) const;

 private:
  int bits_per_key_;
  std::vector<uint64_t> hashes_;
};

// Returns false only if the key is certainly absent. A malformed filter answers
// true (a filter may only cost a read, never hide a key).
bool BloomMayContain(std::string_view filter, std::string_view user_key);

}  // namespace ringkv::storage::lsm
