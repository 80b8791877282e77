// Bucket: one 64-byte cache line of the hash table's bucket array, holding up to
// kSlots entries, each found by a 16-bit tag, plus a chain of overflow entries.
//
// Why groups of slots rather than one chain head per bucket: a read costs its
// dependent cache misses. With one chain per bucket at load 0.5..1, a hit loads
// 1 + load/2 entries on average (every entry before the wanted one in the chain
// must be loaded to find the next link). Here the bucket line is loaded once,
// its seven tags are compared in registers, and only an entry whose tag matches
// is loaded: a hit loads 1 entry (plus 1 in 65536 false tag matches per other
// entry, and the overflow chain in the rare bucket with more than 7 entries).
// Measured on the engines benchmark's read loop at 1M keys: ~840 -> ~620 ns/get.
//
// Layout (in memory only, never written to disk, so no version field):
//   offset 0..55   slot[0..6], uint64 each:
//                    0                          the slot is empty
//                    tag << 48 | entry address  tag = the top 16 bits of the
//                                               key's hash (HashTable::Hash)
//   offset 56..63  overflow, Entry*: a chain through Entry::next of the
//                  bucket's entries that found every slot taken, or nullptr
// An entry address must fit in 48 bits (user space on x86-64 and AArch64
// Linux, unless a program maps above 2^47 on purpose); EntryAllocator checks it.
//
// Invariants: an entry sits in exactly one slot or on the overflow chain of
// one bucket; an entry in a slot has next == nullptr; a bucket's overflow
// chain is empty when any of its slots is (Erase refills a freed slot from the
// chain, and placement fills slots first), so a lookup can stop at the slots
// when the chain is empty.
//
// Ownership: buckets hold pointers; the HashTable owns the entries.
#pragma once

#include <cstdint>

#include "storage/hash/entry.h"

namespace ringkv::storage::hash {

struct alignas(64) Bucket {
  static constexpr int kSlots = 7;
  static constexpr uint64_t kTagMask = 0xffff'0000'0000'0000ull;
  static constexpr uint64_t kAddressMask = ~kTagMask;

  uint64_t slot[kSlots];
  Entry* overflow;

  static uint64_t MakeSlot(Entry* e, uint64_t hash) {
    return (hash & kTagMask) | reinterpret_cast<uint64_t>(e);
  }
  static Entry* SlotEntry(uint64_t v) { return reinterpret_cast<Entry*>(v & kAddressMask); }

  // Bit s set when slot s holds an entry whose tag equals hash's. Branch-free:
  // the seven compares run in parallel on the one loaded line.
  uint32_t Match(uint64_t hash) const {
    uint64_t tag = hash & kTagMask;
    uint32_t m = 0;
    for (int s = 0; s < kSlots; s++) {
      m |= static_cast<uint32_t>(slot[s] != 0 && (slot[s] & kTagMask) == tag) << s;
    }
    return m;
  }

  // Index of an empty slot, or -1.
  int FreeSlot() const {
    for (int s = 0; s < kSlots; s++) {
      if (slot[s] == 0) return s;
    }
    return -1;
  }

  bool empty() const {
    for (int s = 0; s < kSlots; s++) {
      if (slot[s] != 0) return false;
    }
    return overflow == nullptr;
  }

  // Calls fn(const Entry*) for each entry: slots in order, then the chain.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (int s = 0; s < kSlots; s++) {
      if (slot[s] != 0) fn(static_cast<const Entry*>(SlotEntry(slot[s])));
    }
    for (const Entry* e = overflow; e != nullptr; e = e->next) fn(e);
  }

  uint64_t size() const {
    uint64_t n = 0;
    ForEach([&n](const Entry*) { n++; });
    return n;
  }
};
static_assert(sizeof(Bucket) == 64, "a bucket is one cache line");

}  // namespace ringkv::storage::hash
