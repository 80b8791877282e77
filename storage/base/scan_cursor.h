// SCAN cursors of the ordered engines (lsm, btree): a 48-bit value that names
// an exact resume point when the engine still remembers it and a key prefix to
// fall back on when it does not.
//
// Layout:
//   bit 0        always 1, so a live cursor is never 0
//   bits 1..23   id of an exact resume point in the engine's ScanResumeRing
//   bits 24..47  the first 3 bytes of the first key not yet visited
//                (big-endian, zero padded)
// A call normally resumes exactly where the previous call stopped (at the
// first key it did not visit, or just after the last one it did). When the id is gone (the ring moved past it, the process restarted,
// or in a cluster the shard's leader changed and the cursor reached another
// node's engine) it seeks to the 3 prefix bytes without trailing zeros, which
// sort at or before every key sharing them: no key is skipped, keys sharing the
// prefix may be visited twice (SCAN allows it). A fallback call must then run
// until a key with a greater prefix, or a run of keys sharing one would repeat
// forever; its cursor's prefix is then greater than the one it was given.
//
// Why not a prefix alone (the lsm's first design): over keys with a common
// prefix ("user:", "key:0") every other SCAN COUNT 10 ran to the end of the
// prefix, a whole shard per call. Why not an id alone (the btree's first
// design): a forgotten id could only be an error, where Redis accepts any
// cursor it handed out. An id is reused only after 2^23 calls; a stale cursor
// then resumes at another scan's point only if that point has the same prefix.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ringkv::storage::scan_cursor {

inline constexpr uint64_t kIdBits = 23;
inline constexpr uint64_t kIdMask = (uint64_t{1} << kIdBits) - 1;
inline constexpr uint64_t kPrefixMask = ~((kIdMask << 1) | 1);

// A cursor value this layout can have come from: 0 or odd below 2^48.
inline bool WellFormed(uint64_t cursor) {
  return cursor == 0 || ((cursor & 1) == 1 && cursor >> 48 == 0);
}

// The cursor with no id whose prefix is key's first 3 bytes.
inline uint64_t PrefixCursor(std::string_view key) {
  uint64_t code = 0;
  for (size_t i = 0; i < 3; i++) {
    code = (code << 8) | (i < key.size() ? static_cast<uint8_t>(key[i]) : 0);
  }
  return (code << (kIdBits + 1)) | 1;
}

// True when key's prefix sorts after the cursor's: a fallback call may stop.
inline bool PastPrefix(std::string_view key, uint64_t cursor) {
  return (PrefixCursor(key) & kPrefixMask) > (cursor & kPrefixMask);
}

// The key a fallback resume seeks to: the prefix bytes without trailing zeros.
inline std::string FallbackSeekKey(uint64_t cursor) {
  std::string key;
  for (int shift = 40; shift >= static_cast<int>(kIdBits + 1); shift -= 8) {
    key.push_back(static_cast<char>((cursor >> shift) & 0xff));
  }
  while (!key.empty() && key.back() == 0) key.pop_back();
  return key;
}

// Where a remembered cursor resumes: at `key`, or just after it.
struct Resume {
  std::string key;
  bool after = false;
};

// The exact resume points of the kSize most recent cursors an engine handed
// out. Not thread-safe: used by the engine's owner thread.
class ScanResumeRing {
 public:
  static constexpr size_t kSize = 1024;

  // Records where the next call resumes; returns the cursor to hand out. The
  // cursor's fallback prefix is `key`'s, which sorts at or before the first key
  // not yet visited either way.
  // The key is copied into the slot's own string, whose buffer a later cursor
  // reuses: no allocation per SCAN call once the ring has gone round.
  uint64_t Remember(std::string_view key, bool after) {
    const uint64_t id = next_id_;
    next_id_ = id == kIdMask ? 1 : id + 1;
    Slot& slot = slots_[id % kSize];
    slot.cursor = PrefixCursor(key) | (id << 1);
    slot.resume.key.assign(key.data(), key.size());
    slot.resume.after = after;
    return slot.cursor;
  }

  // The resume point of `cursor`, or nullptr when the ring no longer holds it
  // (the caller falls back to the prefix).
  const Resume* Find(uint64_t cursor) const {
    const uint64_t id = (cursor >> 1) & kIdMask;
    const Slot& s = slots_[id % kSize];
    return id != 0 && s.cursor == cursor ? &s.resume : nullptr;
  }

 private:
  struct Slot {
    uint64_t cursor = 0;  // 0: empty
    Resume resume;
  };
  std::vector<Slot> slots_ = std::vector<Slot>(kSize);
  uint64_t next_id_ = 1;
};

}  // namespace ringkv::storage::scan_cursor
