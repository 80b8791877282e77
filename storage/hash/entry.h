// Entry: the one allocation that holds a key/value pair of the hash engine.
//
// Layout of an entry (an EntryArena slot, or one malloc for entries over
// EntryArena::kMaxSlotBytes; no version field because an entry never leaves
// the process; snapshots are serialized by the caller):
//
//   offset 0            Entry* next        8 bytes, the overflow chain link
//                                          (nullptr while the entry is in a
//                                          bucket slot, see bucket.h)
//   offset 8            uint8 size_class   0: malloc'd (size: malloc_usable_size);
//                                          c >= 1: an arena slot of 16 * c bytes
//   offset 9            varint64 key_len   1..10 bytes (LevelDB varint)
//   then                varint64 value_len 1..10 bytes
//   then                key bytes          key_len bytes
//   then                value bytes        value_len bytes
//
// A 16-byte key with a 16-byte value takes 8 + 1 + 1 + 1 + 16 + 16 = 43 bytes,
// a 48-byte slot; with a 100-byte value 127 bytes, a 128-byte slot. The hash is
// not stored: a rehash recomputes it from the key, trading a few ns per moved
// entry for 8 bytes/key.
//
// Ownership: entries are created and freed only through EntryAllocator, which
// keeps a running count of the slot bytes of every live entry it owns.
#pragma once

#include <malloc.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "storage/base/check.h"
#include "storage/hash/entry_arena.h"

namespace ringkv::storage::hash {

struct Entry {
  Entry* next;
  // Followed by the varints and bytes described above.

  // The size class byte at offset 8.
  uint8_t size_class() const { return *(reinterpret_cast<const uint8_t*>(this) + sizeof(Entry)); }
  void set_size_class(uint8_t c) { *(reinterpret_cast<uint8_t*>(this) + sizeof(Entry)) = c; }
  // The varint lengths, key and value, from offset 9.
  char* payload() { return reinterpret_cast<char*>(this) + sizeof(Entry) + 1; }
  const char* payload() const { return reinterpret_cast<const char*>(this) + sizeof(Entry) + 1; }
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
  return sizeof(Entry) + 1 + entry_internal::VarLen(key_len) +
         entry_internal::VarLen(value_len) + key_len + value_len;
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

// Allocates and frees entries and keeps the byte count Stats() reports: entries
// up to EntryArena::kMaxSlotBytes from the arena, larger ones from malloc.
// Owned by the engine (shared by the tables a Restore swaps); single-threaded.
class EntryAllocator {
 public:
  Entry* New(std::string_view key, std::string_view value) {
    size_t bytes = EntryBytes(key.size(), value.size());
    Entry* e;
    uint8_t cls = 0;
    if (bytes <= EntryArena::kMaxSlotBytes) {
      cls = static_cast<uint8_t>(EntryArena::ClassFor(bytes));
      e = static_cast<Entry*>(arena_.Allocate(cls));
    } else {
      e = static_cast<Entry*>(std::malloc(bytes));
      RINGKV_CHECK_MSG(e != nullptr, "out of memory allocating a hash entry");
    }
    // Bucket slots keep a tag in the top 16 bits of an entry's address (bucket.h).
    RINGKV_CHECK_MSG((reinterpret_cast<uintptr_t>(e) >> 48) == 0, "entry address above 2^48");
    e->next = nullptr;
    e->set_size_class(cls);
    EncodeEntry(e, key, value);
    bytes_ += SlotBytes(e);
    return e;
  }

  // Bytes the entry's allocation holds.
  static size_t SlotBytes(const Entry* e) {
    uint8_t cls = e->size_class();
    return cls != 0 ? EntryArena::SlotBytes(cls) : malloc_usable_size(const_cast<Entry*>(e));
  }

  // True when `e` can hold key/value in place (the overwrite fast path).
  static bool Fits(const Entry* e, size_t key_len, size_t value_len) {
    return EntryBytes(key_len, value_len) <= SlotBytes(e);
  }

  void Free(Entry* e) {
    bytes_ -= SlotBytes(e);
    FreeDisowned(e);
  }

  // Stops counting e, whose ownership moves elsewhere (a snapshot's retired
  // list). The new owner frees it with FreeDisowned.
  void Disown(Entry* e) { bytes_ -= SlotBytes(e); }
  void FreeDisowned(Entry* e) {
    uint8_t cls = e->size_class();
    if (cls != 0) {
      arena_.Free(e, cls);
    } else {
      std::free(e);
    }
  }

  // Slot bytes of the live entries this allocator owns (not disowned ones).
  uint64_t bytes() const { return bytes_; }
  // Memory the arena holds beyond its allocated slots: free slots, unused chunk
  // tails and headers, and the populated spare chunk.
  uint64_t overhead_bytes() const { return arena_.resident_bytes() - arena_.live_bytes(); }
  const EntryArena& arena() const { return arena_; }

 private:
  EntryArena arena_;
  uint64_t bytes_ = 0;
};

}  // namespace ringkv::storage::hash
