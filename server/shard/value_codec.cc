// Encoding of stored values; the format is described in value_codec.h.
#include "server/shard/value_codec.h"

#include "server/commands/arg_parse.h"
#include "storage/base/coding.h"

namespace ringkv::server {
namespace {

constexpr uint8_t kTypeMask = 0x07;
constexpr uint8_t kHasExpireBit = 1u << 4;
constexpr int kVersionShift = 6;

}  // namespace

Status DecodeValue(std::string_view stored, ValueView* out) {
  if (stored.size() < kValueHeaderBytes) return Status::Corruption("value too short");
  const uint8_t h = static_cast<uint8_t>(stored[0]);
  if ((h >> kVersionShift) != kValueFormatVersion) {
    return Status::Corruption("unknown value format version");
  }
  if ((h & kTypeMask) != static_cast<uint8_t>(ValueType::kString)) {
    return Status::Corruption("unknown value type");
  }
  out->type = static_cast<ValueType>(h & kTypeMask);
  out->flags = h & kEncodingFlagsMask;
  out->write_clock_s = DecodeFixed32(stored.data() + 1);
  size_t pos = kValueHeaderBytes;
  out->expire_ms = 0;
  if (h & kHasExpireBit) {
    if (stored.size() < pos + kValueExpireBytes) return Status::Corruption("value expire");
    out->expire_ms = static_cast<int64_t>(DecodeFixed64(stored.data() + pos));
    if (out->expire_ms <= 0) return Status::Corruption("value expire not positive");
    pos += kValueExpireBytes;
  }
  out->payload = stored.substr(pos);
  return Status::OK();
}

void EncodeValue(ValueType type, uint8_t flags, int64_t expire_ms, uint32_t write_clock_s,
                 std::string_view payload, std::string* out) {
  RINGKV_CHECK(expire_ms >= 0);
  RINGKV_CHECK((flags & ~kEncodingFlagsMask) == 0);
  out->clear();
  uint8_t h = static_cast<uint8_t>(type) & kTypeMask;
  if (expire_ms != 0) h |= kHasExpireBit;
  h |= flags;
  h |= static_cast<uint8_t>(kValueFormatVersion << kVersionShift);
  out->reserve(kValueHeaderBytes + (expire_ms ? kValueExpireBytes : 0) + payload.size());
  out->push_back(static_cast<char>(h));
  PutFixed32(out, write_clock_s);
  if (expire_ms != 0) PutFixed64(out, static_cast<uint64_t>(expire_ms));
  out->append(payload);
}

std::string_view StringEncodingName(const ValueView& v) {
  // Redis's tryObjectEncoding: an integer-looking string of at most 20 bytes
  // that fits a long is stored as "int"; otherwise up to 44 bytes "embstr".
  constexpr size_t kEmbstrMaxBytes = 44;
  if (v.flags & kFlagRaw) return "raw";
  if (!(v.flags & kFlagNoInt) && v.payload.size() <= 20) {
    int64_t ignored = 0;
    if (ParseInt64(v.payload, &ignored)) return "int";
  }
  return v.payload.size() <= kEmbstrMaxBytes ? "embstr" : "raw";
}

bool PeekExpire(std::string_view stored, int64_t* expire_ms) {
  if (stored.size() < kValueHeaderBytes) return false;
  const uint8_t h = static_cast<uint8_t>(stored[0]);
  *expire_ms = 0;
  if (h & kHasExpireBit) {
    if (stored.size() < kValueHeaderBytes + kValueExpireBytes) return false;
    *expire_ms = static_cast<int64_t>(DecodeFixed64(stored.data() + kValueHeaderBytes));
  }
  return true;
}

}  // namespace ringkv::server
