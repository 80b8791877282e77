#include "storage/lsm/bloom.h"

#include <cstring>

namespace ringkv::storage::lsm {

uint64_t Hash64(std::string_view key) {
  // FNV-1a style byte loop folded 8 bytes at a time, finished with a
  // murmur3 fmix64 so every input bit affects every output bit.
  constexpr uint64_t kMul = 0x9e3779b97f4a7c15ull;
  uint64_t h = 0xcbf29ce484222325ull ^ (key.size() * kMul);
  const char* p = key.data();
  size_t n = key.size();
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  uint64_t w = 0;
  std::memcpy(&w, p, n);
  h = (h ^ w) * kMul;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

void BloomFilterBuilder::Finish(std::string* dst) const {
  int k = static_cast<int>(bits_per_key_ * 0.69);  // ln(2) * bits/key minimizes false positives
  if (k < 1) k = 1;
  if (k > 30) k = 30;
  size_t bits = hashes_.size() * static_cast<size_t>(bits_per_key_);
  if (bits < 64) bits = 64;
  size_t bytes = (bits + 7) / 8;
  bits = bytes * 8;
  size_t start = dst->size();
  dst->resize(start + bytes, 0);
  dst->push_back(static_cast<char>(k));
  auto* array = reinterpret_cast<uint8_t*>(dst->data() + start);
  for (uint64_t h : hashes_) {
    uint64_t delta = (h >> 32) | (h << 32);
    for (int i = 0; i < k; i++) {
      uint64_t bit = h % bits;
      array[bit / 8] |= static_cast<uint8_t>(1u << (bit % 8));
      h += delta;
    }
  }
}

bool BloomMayContain(std::string_view filter, std::string_view user_key) {
  if (filter.size() < 2) return true;
  size_t bytes = filter.size() - 1;
  size_t bits = bytes * 8;
  int k = static_cast<uint8_t>(filter.back());
  if (k < 1 || k > 30) return true;
  const auto* array = reinterpret_cast<const uint8_t*>(filter.data());
  uint64_t h = Hash64(user_key);
  uint64_t delta = (h >> 32) | (h << 32);
  for (int i = 0; i < k; i++) {
    uint64_t bit = h % bits;
    if ((array[bit / 8] & (1u << (bit % 8))) == 0) return false;
    h += delta;
  }
  return true;
}

}  // namespace ringkv::storage::lsm
