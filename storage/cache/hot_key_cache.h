// HotKeyCache: a bounded in-memory map from key to "value" or "known absent",
// evicted by segmented LRU. It is the data structure behind CachedEngine and
// knows nothing about engines.
//
// Segmented LRU (as in Karedla et al. 1994, and the SLRU of many CDN caches):
// a key enters the *probation* segment; a second hit moves it to the
// *protected* segment, which may hold at most kProtectedShare of the byte
// budget (its least recent entries are demoted back to probation). Eviction
// takes the least recent probation entry first. So a scan, which touches each
// key once, only churns probation and cannot flush the hot set.
//
// Memory accounting: every entry is charged key.size() + value.size() +
// kEntryOverhead, where kEntryOverhead counts the list node, the hash-map node
// and its bucket slot, and the two std::string headers (see Charge()). Heap
// slack of std::string capacity is not charged: values are assigned with
// exact sizes, so the slack is the allocator's rounding only.
// Invariant after every public call: bytes() <= capacity_bytes().
//
// Ownership: owns copies of all keys and values. Not thread-safe (the engine
// contract is one thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ringkv::storage {

class HotKeyCache {
 public:
  // What Lookup found.
  enum class Hit { kMiss, kPresent, kAbsent };

  explicit HotKeyCache(size_t capacity_bytes);
  HotKeyCache(const HotKeyCache&) = delete;
  HotKeyCache& operator=(const HotKeyCache&) = delete;

  // kPresent: *value holds the cached value. kAbsent: the key is cached as not
  // present. kMiss: nothing is known. Promotes the entry on a hit.
  Hit Lookup(std::string_view key, std::string* value);

  // Caches key -> value (replacing any entry). Entries too large to be worth
  // caching (over capacity/kMaxEntryShareDivisor) are dropped instead.
  void InsertPresent(std::string_view key, std::string_view value);
  // Caches "key is absent" (replacing any entry).
  void InsertAbsent(std::string_view key);
  // Replaces the entry only if the key is cached; returns whether it was.
  bool UpdateIfCached(std::string_view key, bool present, std::string_view value);
  // Drops the entry for key if any; returns whether there was one.
  bool Erase(std::string_view key);
  bool Contains(std::string_view key) const { return index_.count(key) != 0; }
  void Clear();

  size_t bytes() const { return probation_bytes_ + protected_bytes_; }
  size_t capacity_bytes() const { return capacity_; }
  size_t entries() const { return index_.size(); }
  size_t absent_entries() const { return absent_entries_; }
  uint64_t evictions() const { return evictions_; }

  // Bytes charged for one entry (public so tests can check the bound exactly).
  static size_t Charge(std::string_view key, std::string_view value);

  static constexpr double kProtectedShare = 0.8;
  static constexpr size_t kMaxEntryShareDivisor = 8;

 private:
  struct Entry {
    std::string key;
    std::string value;
    bool present = false;
    bool is_protected = false;
    size_t charge = 0;
  };
  using List = std::list<Entry>;

  void Insert(std::string_view key, bool present, std::string_view value);
  void Unlink(List::iterator it);
  void EvictToFit();
  void DemoteProtectedOverflow();

  const size_t capacity_;
  const size_t protected_capacity_;
  // Most recent at the front.
  List probation_;
  List protected_;
  size_t probation_bytes_ = 0;
  size_t protected_bytes_ = 0;
  size_t absent_entries_ = 0;
  uint64_t evictions_ = 0;
  // Keys are views into the Entry that the iterator points at; list nodes never
  // move (splice keeps them), so the views stay valid until the entry is erased.
  std::unordered_map<std::string_view, List::iterator> index_;
};

}  // namespace ringkv::storage
