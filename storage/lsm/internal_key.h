// Internal keys: how the LSM engine tags every user key with a sequence number
// and an operation type, so that several versions of one key can coexist in
// memtables and SSTables and a reader can pick the one visible at a snapshot.
//
// Format (internal key), byte by byte:
//   [0, n)      the user key bytes
//   [n, n + 8)  fixed64 little-endian tag = (sequence << 8) | type
// where type is ValueType (0 = deletion / tombstone, 1 = value) and sequence is
// a 56-bit number assigned in write order. The tag layout is format version 1 of
// every file that stores internal keys (WAL batches do not; SSTables and the
// MANIFEST do, and carry their own version fields).
//
// Order: ascending by user key (bytewise), then DESCENDING by tag, so the newest
// version of a key comes first and Seek(user_key, snapshot_seq) lands on the
// newest version visible at that snapshot.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "storage/base/coding.h"
#include "storage/base/key_order.h"

namespace ringkv::storage::lsm {

enum class ValueType : uint8_t { kDeletion = 0, kValue = 1 };

// ValueType used when building a seek target: the largest type, because tags
// sort descending and we want the target before every entry with that sequence.
constexpr ValueType kValueTypeForSeek = ValueType::kValue;
constexpr uint64_t kMaxSequence = (uint64_t{1} << 56) - 1;
constexpr size_t kTagBytes = 8;

inline uint64_t PackTag(uint64_t sequence, ValueType type) {
  return (sequence << 8) | static_cast<uint8_t>(type);
}

inline void AppendInternalKey(std::string* dst, std::string_view user_key, uint64_t sequence,
                              ValueType type) {
  dst->append(user_key.data(), user_key.size());
  PutFixed64(dst, PackTag(sequence, type));
}

// REQUIRES: ikey.size() >= 8 (checked by ParseInternalKey on untrusted input).
inline std::string_view ExtractUserKey(std::string_view ikey) {
  return ikey.substr(0, ikey.size() - kTagBytes);
}
inline uint64_t ExtractTag(std::string_view ikey) {
  return DecodeFixed64(ikey.data() + ikey.size() - kTagBytes);
}

struct ParsedInternalKey {
  std::string_view user_key;
  uint64_t sequence = 0;
  ValueType type = ValueType::kValue;
};

// Returns false if `ikey` is not a well-formed internal key (too short or an
// unknown type byte); used on every key read back from disk.
inline bool ParseInternalKey(std::string_view ikey, ParsedInternalKey* out) {
  if (ikey.size() < kTagBytes) return false;
  uint64_t tag = ExtractTag(ikey);
  uint8_t type = static_cast<uint8_t>(tag & 0xff);
  if (type > static_cast<uint8_t>(ValueType::kValue)) return false;
  out->user_key = ExtractUserKey(ikey);
  out->sequence = tag >> 8;
  out->type = static_cast<ValueType>(type);
  return true;
}

// Three-way comparison in internal-key order (see the top of this file).
inline int CompareInternalKey(std::string_view a, std::string_view b) {
  int r = CompareKeys(ExtractUserKey(a), ExtractUserKey(b));
  if (r != 0) return r;
  uint64_t ta = ExtractTag(a), tb = ExtractTag(b);
  if (ta > tb) return -1;
  if (ta < tb) return 1;
  return 0;
}

// A seek target for (user_key, snapshot sequence), built once per lookup.
// Short keys live in an inline buffer so a point lookup does not allocate.
class LookupKey {
 public:
  LookupKey(std::string_view user_key, uint64_t sequence) {
    size_t n = user_key.size() + kTagBytes;
    char* dst = space_;
    if (n > sizeof(space_)) {
      heap_.resize(n);
      dst = heap_.data();
    }
    if (!user_key.empty()) std::memcpy(dst, user_key.data(), user_key.size());
    EncodeFixed64(dst + user_key.size(), PackTag(sequence, kValueTypeForSeek));
    key_ = std::string_view(dst, n);
  }
  LookupKey(const LookupKey&) = delete;
  LookupKey& operator=(const LookupKey&) = delete;
  std::string_view internal_key() const { return key_; }
  std::string_view user_key() const { return ExtractUserKey(key_); }

 private:
  char space_[120];
  std::string heap_;
  std::string_view key_;
};

}  // namespace ringkv::storage::lsm
