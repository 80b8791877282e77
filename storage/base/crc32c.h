// CRC32C (Castagnoli), the checksum on every record and block ringkv writes.
// Uses the SSE4.2 instruction when the CPU has it, a table otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ringkv::crc32c {

// Returns the CRC32C of data[0, n) continuing from `init_crc` (0 to start).
uint32_t Extend(uint32_t init_crc, const char* data, size_t n);
inline uint32_t Value(const char* data, size_t n) { return Extend(0, data, n); }
inline uint32_t Value(std::string_view s) { return Extend(0, s.data(), s.size()); }

// A CRC stored next to the data it covers is masked, so that computing the CRC
// of a buffer that embeds CRCs does not degenerate (the LevelDB convention).
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }
inline uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

}  // namespace ringkv::crc32c
