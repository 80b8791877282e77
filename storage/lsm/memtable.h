// MemTable: the in-memory, sorted write buffer of the LSM engine (an arena plus
// a skiplist). The active memtable takes every write; when it is full it becomes
// the immutable memtable and is flushed to an SSTable in the background.
//
// Entry format in the arena (not persisted), byte by byte:
//   varint32 internal_key_length | internal key (user key + 8-byte tag)
//   | varint32 value_length | value bytes
// Deletions store an empty value.
//
// Ownership: shared by std::shared_ptr between the engine, background flushes
// and live iterators; it is freed when the last holder lets go.
// Thread safety: one writer (the engine's owner thread) and lock-free readers.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "storage/base/status.h"
#include "storage/lsm/arena.h"
#include "storage/lsm/internal_iterator.h"
#include "storage/lsm/internal_key.h"
#include "storage/lsm/skiplist.h"

namespace ringkv::storage::lsm {

class MemTable {
 public:
  MemTable();
  MemTable(const MemTable&) = delete;
  MemTable& operator=(const MemTable&) = delete;

  // REQUIRES: single writer; (key, sequence) never added twice.
  void Add(uint64_t sequence, ValueType type, std::string_view key, std::string_view value);

  // Looks up the newest entry for key.user_key() with sequence <= the lookup's.
  // Returns true when found: then *deleted says whether it is a tombstone and,
  // if not, *value holds the value. Returns false when this memtable has no entry.
  bool Get(const LookupKey& key, std::string* value, bool* deleted) const;

  // Iterator over internal keys. The memtable must outlive it.
  std::unique_ptr<InternalIterator> NewIterator() const;

  size_t ApproximateMemoryUsage() const { return arena_.MemoryUsage(); }
  uint64_t num_entries() const { return num_entries_.load(std::memory_order_relaxed); }
  uint64_t num_deletions() const { return num_deletions_.load(std::memory_order_relaxed); }
  uint64_t payload_bytes() const { return payload_bytes_.load(std::memory_order_relaxed); }

 private:
  struct KeyComparator {
    int operator()(const char* a, const char* b) const;
  };
  using Table = SkipList<const char*, KeyComparator>;
  class Iter;

  Arena arena_;
  Table table_;
  std::atomic<uint64_t> num_entries_{0};
  std::atomic<uint64_t> num_deletions_{0};
  std::atomic<uint64_t> payload_bytes_{0};
};

}  // namespace ringkv::storage::lsm
