// KeySlot: the Redis Cluster hash slot of a key.
//
// A key's slot is CRC16 (the XMODEM variant: polynomial 0x1021, initial value
// 0, no reflection, no final xor) of the key, mod 16384. If the key contains a
// "{...}" hash tag with at least one byte between the first '{' and the first
// '}' after it, only those bytes are hashed, so related keys can be forced onto
// one slot. These are exactly Redis's rules (cluster.c keyHashSlot), so
// cluster-aware clients compute the same slot we do.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace ringkv::ring {

// Number of hash slots in the key space (Redis Cluster's fixed value).
inline constexpr uint32_t kNumSlots = 16384;

// CRC16/XMODEM of data.  Crc16("123456789") == 0x31C3.
uint16_t Crc16(std::string_view data);

// The part of `key` that is hashed: the bytes inside the first non-empty
// "{hash tag}", or the whole key when there is none.
std::string_view HashTag(std::string_view key);

// The slot of `key`, in [0, kNumSlots).
uint16_t KeySlot(std::string_view key);

}  // namespace ringkv::ring
