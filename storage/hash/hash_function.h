// HashBytes: the seeded 64-bit hash that places keys in the hash engine's buckets.
//
// A multiply-fold hash in the style of wyhash: 16 bytes at a time are folded by a
// 64x64->128 multiply whose halves are xored. Fast for short keys (a 16-byte key
// is two multiplies) and well mixed in the low bits, which the power-of-two
// bucket index uses. The seed is random per engine so that clients cannot aim
// keys at one bucket (hash flooding). Not a cryptographic hash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace ringkv::storage::hash {

namespace hash_internal {

constexpr uint64_t kP0 = 0xa0761d6478bd642full;
constexpr uint64_t kP1 = 0xe7037ed1a0b428dbull;
constexpr uint64_t kP2 = 0x8ebc6af09c88c6e3ull;
constexpr uint64_t kP3 = 0x589965cc75374cc3ull;

inline uint64_t Fold(uint64_t a, uint64_t b) {
  __uint128_t r = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}
inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint64_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace hash_internal

inline uint64_t HashBytes(std::string_view key, uint64_t seed) {
  using namespace hash_internal;
  const char* p = key.data();
  size_t n = key.size();
  uint64_t h = seed ^ kP0;
  uint64_t a = 0, b = 0;
  if (n <= 16) {
    if (n >= 8) {
      a = Load64(p);
      b = Load64(p + n - 8);
    } else if (n >= 4) {
      a = Load32(p);
      b = Load32(p + n - 4);
    } else if (n > 0) {
      a = (static_cast<uint64_t>(static_cast<unsigned char>(p[0])) << 16) |
          (static_cast<uint64_t>(static_cast<unsigned char>(p[n >> 1])) << 8) |
          static_cast<unsigned char>(p[n - 1]);
    }
  } else {
    size_t left = n;
    while (left > 16) {
      h = Fold(Load64(p) ^ kP1, Load64(p + 8) ^ h);
      p += 16;
      left -= 16;
    }
    a = Load64(p + left - 16);
    b = Load64(p + left - 8);
  }
  return Fold(kP1 ^ n, Fold(a ^ kP1, b ^ h ^ kP2) ^ kP3);
}

}  // namespace ringkv::storage::hash
