// Entry: the one heap allocation that holds a key/value pair of the hash engine.
//
// Layout of an entry (one malloc, exactly sized; no version field because an
// entry never leaves the process; snapshots are serialized by the caller):
//
//   offset 0            Entry* next        8 bytes, the overflow chain link
//                                          (nullptr while the entry is in a
//                                          bucket slot, see bucket.h)
//   offset 8            varint64 key_len   1..10 bytes (LevelDB varint)
//   then                varint64 value_len 1..10 bytes
//   then                key bytes          key_len bytes
//   then                value bytes        value_len bytes
//
// A 16-byte key with a 16-byte value takes 8 + 1 + 1 + 16 + 16 = 42 bytes, which
// jemalloc serves from its 48-byte size class. The hash is not stored: a rehash
// recomputes it from the key, trading a few ns per moved entry for 8 bytes/key.
//
// Ownership: entries are created and freed only through EntryAllocator, which
// keeps a running count of malloc_usable_size() of every live entry.
#pragma once

#include <malloc.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "storage/base/check.h"

namespace ringkv::storage::hash {

struct Entry {
  Entry* next;
  // Followed by the varints and bytes described above.

  char* payload() { return reinterpret_cast<char*>(this) + sizeof(Entry); }
  const char* payload() const { return reinterpret_cast<const char*>(this) + sizeof(Entry); }
};
static_assert(sizeof(Entry) == 8, "entry header must stay one pointer");

// Decoded view of an entry's key and value. Valid while the entry lives.
struct EntryView {
  std::string_view key;
  std::string_view value;
};

namespace entry_internal {

inline size_t VarLen(uint64_t v) {
  size_t n = 1;
  while (v >= 128) {
    v >>= 7;
    n++;
  }
  return n;
}

inline char* PutVar(char* p, uint64_t v) {
  while (v >= 128) {
    *p++ = static_cast<char>(v | 128);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

// Entries are written by us only, so the varints are trusted.
inline const char* GetVar(const char* p, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0;; shift += 7) {
    uint64_t byte = static_cast<unsigned char>(*p++);
    result |= (byte & 127) << shift;
    if (byte < 128) break;
  }
  *v = result;
  return p;
}

}  // namespace entry_internal

inline size_t EntryBytes(size_t key_len, size_t value_len) {
  return sizeof(Entry) + entry_internal::VarLen(key_len) + entry_internal::VarLen(value_len) +
         key_len + value_len;
}

inline EntryView DecodeEntry(const Entry* e) {
  uint64_t klen, vlen;
  const char* p = entry_internal::GetVar(e->payload(), &klen);
  p = entry_internal::GetVar(p, &vlen);
  return EntryView{std::string_view(p, klen), std::string_view(p + klen, vlen)};
}

inline std::string_view EntryKey(const Entry* e) {
  uint64_t klen, vlen;
  const char* p = entry_internal::GetVar(e->payload(), &klen);
  p = entry_internal::GetVar(p, &vlen);
  return std::string_view(p, klen);
}

// Writes header + key + value into e. REQUIRES: e has room for EntryBytes(). The key
// may alias the entry's current key bytes (memmove), which in-place overwrites rely on.
inline void EncodeEntry(Entry* e, std::string_view key, std::string_view value) {
  char* p = entry_internal::PutVar(e->payload(), key.size());
  p = entry_internal::PutVar(p, value.size());
  if (key.size() > 0) std::memmove(p, key.data(), key.size());
  if (value.size() > 0) std::memcpy(p + key.size(), value.data(), value.size());
}

// Allocates and frees entries and keeps the byte count Stats() reports.
// Owned by the engine; single-threaded like the engine.
class EntryAllocator {
 public:
  Entry* New(std::string_view key, std::string_view value) {
    size_t bytes = EntryBytes(key.size(), value.size());
    auto* e = static_cast<Entry*>(std::malloc(bytes));
    RINGKV_CHECK_MSG(e != nullptr, "out of memory allocating a hash entry");
    // Bucket slots keep a tag in the top 16 bits of an entry's address (bucket.h).
    RINGKV_CHECK_MSG((reinterpret_cast<uintptr_t>(e) >> 48) == 0, "entry address above 2^48");
    e->next = nullptr;
    EncodeEntry(e, key, value);
    bytes_ += malloc_usable_size(e);
    return e;
  }

  // True when `e` can hold key/value in place (the overwrite fast path).
  static bool Fits(Entry* e, size_t key_len, size_t value_len) {
    return EntryBytes(key_len, value_len) <= malloc_usable_size(e);
  }

  void Free(Entry* e) {
    bytes_ -= malloc_usable_size(e);
    std::free(e);
  }

  // Stops counting e, whose ownership moves elsewhere (a snapshot's retired list).
  // The new owner frees it with std::free.
  void Disown(Entry* e) { bytes_ -= malloc_usable_size(e); }

  // Sum of malloc_usable_size() over live entries.
  uint64_t bytes() const { return bytes_; }

 private:
  uint64_t bytes_ = 0;
};

}  // namespace ringkv::storage::hash
