// ValueCodec: how the server stores a Redis value inside an engine value.
//
// Every engine value written by server/shard is, byte by byte:
//
//   byte 0      header
//                 bits 0..2  value type (ValueType; 0 = string). Other types
//                            (list, hash, ...) get new numbers here.
//                 bit  3     no-int: the string was built from a formatted
//                            number or text (INCRBYFLOAT), so OBJECT ENCODING
//                            never says "int" for it (Redis: embstr/raw)
//                 bit  4     has-expire: an 8-byte expire time follows the clock
//                 bit  5     raw: the string was modified in place (APPEND,
//                            SETRANGE), so OBJECT ENCODING says "raw" as Redis
//                            does for such strings
//                 bits 6..7  format version, currently 0. A reader that sees
//                            another version reports Corruption.
//   bytes 1..4  last-write clock: unix time in seconds (uint32, little endian)
//               when the value was last written; OBJECT IDLETIME reports
//               now - this (see keyspace.h for why it is not refreshed on read)
//   [8 bytes]   only if has-expire: absolute expire time in unix ms (int64, LE)
//   rest        payload: for a string, its bytes as is
//
// So a string without TTL costs 5 bytes over its payload and one with a TTL 13.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/base/status.h"

namespace ringkv::server {

enum class ValueType : uint8_t { kString = 0 };

inline constexpr uint8_t kValueFormatVersion = 0;
inline constexpr size_t kValueHeaderBytes = 5;      // header byte + clock
inline constexpr size_t kValueExpireBytes = 8;

// The decoded metadata of a stored value; `payload` points into the bytes it
// was decoded from.
// Encoding flags kept in the header byte (see above).
inline constexpr uint8_t kFlagNoInt = 1u << 3;
inline constexpr uint8_t kFlagRaw = 1u << 5;
inline constexpr uint8_t kEncodingFlagsMask = kFlagNoInt | kFlagRaw;

struct ValueView {
  ValueType type = ValueType::kString;
  // kFlagNoInt / kFlagRaw bits.
  uint8_t flags = 0;
  // Absolute expire time in unix ms; 0 means "no expire".
  // Invariant: expire_ms >= 0 (a stored expire is never negative).
  int64_t expire_ms = 0;
  uint32_t write_clock_s = 0;
  std::string_view payload;

  bool has_expire() const { return expire_ms != 0; }
  // True when the value is logically gone at now_ms. As Redis's keyIsExpired,
  // a key is still live at exactly its expire time and gone one ms later.
  bool ExpiredAt(int64_t now_ms) const { return expire_ms != 0 && expire_ms < now_ms; }
};

// Parses `stored`. Returns Corruption for a truncated value or unknown version/type.
Status DecodeValue(std::string_view stored, ValueView* out);

// Stores the encoding of (type, flags, expire_ms, clock, payload) in *out
// (replacing its contents). REQUIRES: expire_ms >= 0; flags within
// kEncodingFlagsMask.
void EncodeValue(ValueType type, uint8_t flags, int64_t expire_ms, uint32_t write_clock_s,
                 std::string_view payload, std::string* out);

// Redis's OBJECT ENCODING name of a string value: "int", "embstr" or "raw".
std::string_view StringEncodingName(const ValueView& v);

// Just the expire of a stored value, without copying the payload.
// Returns false if `stored` is malformed.
bool PeekExpire(std::string_view stored, int64_t* expire_ms);

}  // namespace ringkv::server
