#include "ring/key_slot.h"

#include <array>

namespace ringkv::ring {
namespace {

// Table-driven CRC16/XMODEM, one table entry per high byte. Built at compile
// time so the function stays pure and lock-free.
constexpr std::array<uint16_t, 256> MakeCrc16Table() {
  std::array<uint16_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint16_t crc = static_cast<uint16_t>(i << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
    }
    table[i] = crc;
  }
  return table;
}

constexpr std::array<uint16_t, 256> kCrc16Table = MakeCrc16Table();

}  // namespace

uint16_t Crc16(std::string_view data) {
  uint16_t crc = 0;
  for (unsigned char c : data) {
    crc = static_cast<uint16_t>((crc << 8) ^ kCrc16Table[((crc >> 8) ^ c) & 0xff]);
  }
  return crc;
}

std::string_view HashTag(std::string_view key) {
  // Redis: find the first '{'; then the first '}' after it. Only a non-empty
  // tag counts; "{}" (or no closing brace) means the whole key is hashed. Note
  // that a later "{...}" is never considered, even when the first is empty.
  size_t open = key.find('{');
  if (open == std::string_view::npos) return key;
  size_t close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

uint16_t KeySlot(std::string_view key) {
  // kNumSlots is a power of two, so the mod is a mask (as in Redis).
  return static_cast<uint16_t>(Crc16(HashTag(key)) & (kNumSlots - 1));
}

}  // namespace ringkv::ring
