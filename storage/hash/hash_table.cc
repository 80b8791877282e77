// HashTable implementation. See hash_table.h for the structure and invariants.
#include "storage/hash/hash_table.h"

#include <chrono>
#include <cstring>

#include "storage/hash/hash_function.h"

namespace ringkv::storage::hash {

namespace {

uint64_t NextPowerOfTwo(uint64_t n) {
  uint64_t p = HashTable::kMinBuckets;
  while (p < n) p <<= 1;
  return p;
}

// Reverses the bits of v (the cursor of a reverse-binary scan).
uint64_t ReverseBits(uint64_t v) {
  v = ((v >> 1) & 0x5555555555555555ull) | ((v & 0x5555555555555555ull) << 1);
  v = ((v >> 2) & 0x3333333333333333ull) | ((v & 0x3333333333333333ull) << 2);
  v = ((v >> 4) & 0x0f0f0f0f0f0f0f0full) | ((v & 0x0f0f0f0f0f0f0f0full) << 4);
  return __builtin_bswap64(v);
}

// Adds one to the bits of v selected by mask, counting from the high bit down.
uint64_t ReverseIncrement(uint64_t v, uint64_t mask) {
  v |= ~mask;
  v = ReverseBits(v);
  v++;
  return ReverseBits(v);
}

}  // namespace

HashTable::HashTable(uint64_t seed, EntryAllocator* alloc)
    : seed_(seed),
      buckets_(kMinBuckets),
      owned_alloc_(alloc == nullptr ? std::make_unique<EntryAllocator>() : nullptr),
      alloc_(alloc == nullptr ? owned_alloc_.get() : alloc) {}

namespace {

// Calls fn(Entry*) for every entry of b; fn may free the entry.
template <typename Fn>
void DrainBucket(Bucket* b, Fn&& fn) {
  for (int s = 0; s < Bucket::kSlots; s++) {
    if (b->slot[s] != 0) fn(Bucket::SlotEntry(b->slot[s]));
  }
  Entry* e = b->overflow;
  while (e != nullptr) {
    Entry* next = e->next;
    fn(e);
    e = next;
  }
}

// Key equality; keys of 8..16 bytes (the common Redis key) compare as two
// possibly overlapping 8-byte words instead of a memcmp call.
inline bool KeyEquals(std::string_view a, std::string_view b) {
  size_t n = a.size();
  if (n != b.size()) return false;
  if (n >= 8 && n <= 16) {
    return hash_internal::Load64(a.data()) == hash_internal::Load64(b.data()) &&
           hash_internal::Load64(a.data() + n - 8) == hash_internal::Load64(b.data() + n - 8);
  }
  return n == 0 || std::memcmp(a.data(), b.data(), n) == 0;
}

}  // namespace

HashTable::~HashTable() {
  uint64_t n = bucket_count();
  for (uint64_t i = 0; i < n; i++) DrainBucket(&buckets_[i], [this](Entry* e) { alloc_->Free(e); });
}

uint64_t HashTable::Hash(std::string_view key) const { return HashBytes(key, seed_); }

Entry* HashTable::Lookup(std::string_view key, uint64_t hash, Position* pos) {
  uint64_t i = IndexOf(hash);
  Bucket& b = buckets_[i];
  // Only entries whose tag matches are loaded (one dependent cache miss each).
  for (uint32_t m = b.Match(hash); m != 0; m &= m - 1) {
    int s = __builtin_ctz(m);
    Entry* e = Bucket::SlotEntry(b.slot[s]);
    if (KeyEquals(EntryKey(e), key)) {
      *pos = Position{i, &b.slot[s], nullptr};
      return e;
    }
  }
  for (Entry** l = &b.overflow; *l != nullptr; l = &(*l)->next) {
    if (KeyEquals(EntryKey(*l), key)) {
      *pos = Position{i, nullptr, l};
      return *l;
    }
  }
  return nullptr;
}

Entry* HashTable::Find(std::string_view key) {
  StepForOp();
  Position pos;
  return Lookup(key, Hash(key), &pos);
}

void HashTable::Place(Bucket* b, Entry* e, uint64_t hash) {
  int s = b->FreeSlot();
  if (s >= 0) {
    e->next = nullptr;
    b->slot[s] = Bucket::MakeSlot(e, hash);
  } else {
    e->next = b->overflow;
    b->overflow = e;
  }
}

void HashTable::EmptySlot(Bucket* b, int s) {
  b->slot[s] = 0;
  Entry* e = b->overflow;
  if (e == nullptr) return;
  b->overflow = e->next;
  e->next = nullptr;
  b->slot[s] = Bucket::MakeSlot(e, Hash(EntryKey(e)));
}

namespace {

// Rewrites e's value in place. REQUIRES: EntryAllocator::Fits(e, key_len, value.size())
// and value does not point into e. The key moves when the header changes length.
void OverwriteInPlace(Entry* e, std::string_view value) {
  uint64_t key_len, old_value_len;
  const char* p = entry_internal::GetVar(e->payload(), &key_len);
  const char* old_key = entry_internal::GetVar(p, &old_value_len);
  char* q = entry_internal::PutVar(e->payload(), key_len);
  // Measure the new header first, so the key can be moved before the header
  // bytes are written over it.
  char* new_key = q + entry_internal::VarLen(value.size());
  if (new_key != old_key && key_len > 0) std::memmove(new_key, old_key, key_len);
  entry_internal::PutVar(q, value.size());
  if (!value.empty()) std::memcpy(new_key + key_len, value.data(), value.size());
}

bool PointsInto(const Entry* e, std::string_view value) {
  const char* begin = reinterpret_cast<const char*>(e);
  const char* end = begin + EntryAllocator::SlotBytes(e);
  return value.data() < end && value.data() + value.size() > begin;
}

}  // namespace

bool HashTable::Put(std::string_view key, std::string_view value) {
  StepForOp();
  uint64_t hash = Hash(key);
  Position pos;
  Entry* old = Lookup(key, hash, &pos);
  if (old != nullptr) {
    bool keep_old = observer_ != nullptr && observer_->KeepRemoved();
    if (!keep_old && EntryAllocator::Fits(old, key.size(), value.size()) &&
        !PointsInto(old, value)) {
      // The header's PutVar of key_len rewrites the same bytes it read, so only the
      // value length can change the header's size.
      OverwriteInPlace(old, value);
      return false;
    }
    BeforeMutate(pos.index);
    Entry* e = alloc_->New(key, value);
    if (pos.slot != nullptr) {
      *pos.slot = Bucket::MakeSlot(e, hash);
    } else {
      e->next = old->next;
      *pos.link = e;
    }
    Dispose(old);
    return false;
  }
  uint64_t index = IndexOf(hash);
  BeforeMutate(index);
  Place(&buckets_[index], alloc_->New(key, value), hash);
  count_++;
  MaybeStartResize();
  return true;
}

bool HashTable::Erase(std::string_view key) {
  StepForOp();
  uint64_t hash = Hash(key);
  Position pos;
  Entry* e = Lookup(key, hash, &pos);
  if (e == nullptr) return false;
  BeforeMutate(pos.index);
  if (pos.slot != nullptr) {
    EmptySlot(&buckets_[pos.index], static_cast<int>(pos.slot - buckets_[pos.index].slot));
  } else {
    *pos.link = e->next;
  }
  e->next = nullptr;
  count_--;
  Dispose(e);
  MaybeStartResize();
  return true;
}

void HashTable::Dispose(Entry* e) {
  if (observer_ != nullptr && observer_->KeepRemoved()) {
    observer_->Retire(e);
  } else {
    alloc_->Free(e);
  }
}

void HashTable::Clear() {
  RINGKV_CHECK(layout_pins_ == 0);
  uint64_t n = bucket_count();
  for (uint64_t i = 0; i < n; i++) DrainBucket(&buckets_[i], [this](Entry* e) { Dispose(e); });
  buckets_.Reset(kMinBuckets);
  base_ = kMinBuckets;
  split_ = 0;
  count_ = 0;
  resize_ = Resize::kNone;
  shrink_target_ = 0;
  trim_pending_ = false;
}

void HashTable::MaybeStartResize() {
  if (rehashing() || layout_pins_ > 0) return;
  if (count_ >= kMaxLoad * base_) {
    StartGrow();
  } else if (base_ > kMinBuckets && count_ < kMaxLoad * base_ / 8) {
    shrink_target_ = NextPowerOfTwo((count_ + kMaxLoad - 1) / kMaxLoad);
    StartHalving();
  }
}

void HashTable::StartGrow() {
  RINGKV_CHECK(resize_ == Resize::kNone && split_ == 0);
  // Small arrays are realloc'd (at most 64 KiB copied); large ones only get
  // their next half made writable. Nothing is faulted in here beyond one slice:
  // the rehash steps keep the resident prefix ahead of the split.
  buckets_.Grow(2 * base_);
  resize_ = Resize::kGrow;
  AdjustResident();
}

void HashTable::StartHalving() {
  RINGKV_CHECK(resize_ == Resize::kNone && split_ == 0 && base_ > kMinBuckets);
  // The table as it is, seen as the half-size table with every bucket split.
  base_ /= 2;
  split_ = base_;
  resize_ = Resize::kShrink;
  trim_pending_ = true;
}

void HashTable::SplitOne() {
  uint64_t from = split_;
  uint64_t to = split_ + base_;
  // The bucket written must be resident (invariant 4); the lookahead in
  // AdjustResident normally has it already.
  while ((to + 1) * sizeof(Bucket) > buckets_.resident_bytes()) {
    RINGKV_CHECK(buckets_.Populate() > 0);
  }
  uint64_t high_mask = 2 * base_ - 1;
  Bucket* src = &buckets_[from];
  Bucket* dst = &buckets_[to];
  RINGKV_DCHECK(dst->empty());
  // Slots whose key now belongs to `to` move there; then the whole chain is
  // placed again, filling the slots freed in src first (invariant 2).
  for (int s = 0; s < Bucket::kSlots; s++) {
    if (src->slot[s] == 0) continue;
    Entry* e = Bucket::SlotEntry(src->slot[s]);
    uint64_t hash = Hash(EntryKey(e));
    if ((hash & high_mask) == to) {
      Place(dst, e, hash);
      src->slot[s] = 0;
    }
  }
  Entry* e = src->overflow;
  src->overflow = nullptr;
  while (e != nullptr) {
    Entry* next = e->next;
    uint64_t hash = Hash(EntryKey(e));
    Place((hash & high_mask) == to ? dst : src, e, hash);
    e = next;
  }
  split_++;
  if (split_ == base_) {
    base_ *= 2;
    split_ = 0;
    resize_ = Resize::kNone;
  }
}

void HashTable::MergeOne() {
  uint64_t to = split_ - 1;
  uint64_t from = to + base_;
  Bucket* src = &buckets_[from];
  Bucket* dst = &buckets_[to];
  // Slot values keep their tags; chain entries need their hash for a slot.
  for (int s = 0; s < Bucket::kSlots; s++) {
    uint64_t v = src->slot[s];
    if (v == 0) continue;
    int free_slot = dst->FreeSlot();
    if (free_slot >= 0) {
      dst->slot[free_slot] = v;
    } else {
      Entry* moved = Bucket::SlotEntry(v);
      moved->next = dst->overflow;
      dst->overflow = moved;
    }
  }
  Entry* e = src->overflow;
  while (e != nullptr) {
    Entry* next = e->next;
    Place(dst, e, Hash(EntryKey(e)));
    e = next;
  }
  *src = Bucket{};
  split_--;
  if (split_ == 0) {
    resize_ = Resize::kNone;
    // Keep halving toward the target set when the shrink began, unless the
    // table has filled up again meanwhile.
    if (base_ > shrink_target_ && base_ > kMinBuckets && count_ < kMaxLoad * base_ / 2) {
      StartHalving();
    }
  }
}

bool HashTable::AdjustResident() {
  if (growing()) {
    uint64_t want = (base_ + split_) * sizeof(Bucket) + kPopulateAheadBytes;
    if (buckets_.resident_bytes() < want) buckets_.Populate();
    return false;
  }
  if (!trim_pending_) return false;
  // Buckets at or above bucket_count() are empty (invariant 2).
  if (buckets_.Trim(bucket_count()) == 0 && !shrinking()) trim_pending_ = false;
  return trim_pending_;
}

void HashTable::UnpinLayout() {
  RINGKV_CHECK(layout_pins_ > 0);
  layout_pins_--;
  if (layout_pins_ == 0) MaybeStartResize();
}

bool HashTable::RehashStep(uint64_t max_buckets) {
  if (layout_pins_ > 0) return rehashing() || trim_pending_;
  uint64_t empty_visits = max_buckets * kEmptyVisitsPerBucket;
  uint64_t moved = 0;
  while (rehashing() && moved < max_buckets) {
    // The bucket this step would empty into another: split_ (grow) or split_ - 1
    // + base_ (shrink). Empty ones only move the boundary.
    bool empty = growing() ? buckets_[split_].empty() : buckets_[split_ - 1 + base_].empty();
    if (empty) {
      if (empty_visits == 0) break;
      empty_visits--;
    } else {
      moved++;
    }
    if (growing()) {
      SplitOne();
    } else {
      MergeOne();
    }
  }
  AdjustResident();
  if (!rehashing()) MaybeStartResize();
  return rehashing() || trim_pending_;
}

uint64_t HashTable::RehashForMicros(uint64_t micros) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(micros);
  uint64_t steps = 0;
  while (RehashStep(100)) {
    steps++;
    if (std::chrono::steady_clock::now() >= deadline) break;
  }
  return steps * 100;
}

std::string HashTable::CheckLayout() const {
  uint64_t n = bucket_count();
  uint64_t seen = 0;
  auto where = [](uint64_t i, const char* what) {
    return "bucket " + std::to_string(i) + ": " + what;
  };
  for (uint64_t i = 0; i < n; i++) {
    const Bucket& b = buckets_[i];
    bool free_slot = false;
    for (int s = 0; s < Bucket::kSlots; s++) {
      if (b.slot[s] == 0) {
        free_slot = true;
        continue;
      }
      const Entry* e = Bucket::SlotEntry(b.slot[s]);
      uint64_t hash = Hash(EntryKey(e));
      if ((hash & Bucket::kTagMask) != (b.slot[s] & Bucket::kTagMask)) {
        return where(i, "slot tag is not the key's");
      }
      if (IndexOf(hash) != i) return where(i, "slot entry belongs to another bucket");
      if (e->next != nullptr) return where(i, "slot entry has a chain link");
      seen++;
    }
    if (free_slot && b.overflow != nullptr) return where(i, "overflow chain beside a free slot");
    uint64_t chain = 0;
    for (const Entry* e = b.overflow; e != nullptr; e = e->next) {
      if (IndexOf(Hash(EntryKey(e))) != i) return where(i, "chain entry belongs to another bucket");
      if (++chain > count_) return where(i, "chain longer than the table (a cycle?)");
      seen++;
    }
  }
  if (seen != count_) {
    return "found " + std::to_string(seen) + " entries, count() is " + std::to_string(count_);
  }
  return "";
}

uint64_t HashTable::ScanStep(uint64_t v, const EntryVisitor& visit) const {
  auto emit = [&](uint64_t index) { buckets_[index].ForEach(visit); };
  // Visit the bucket of the base_-sized table that v selects and, when it is
  // split, its other half: together they hold every key whose low bits are
  // v's, as Redis's small-table bucket plus its expansions in the large one do.
  uint64_t mask = base_ - 1;
  uint64_t b = v & mask;
  emit(b);
  if (b < split_) emit(b + base_);
  return ReverseIncrement(v, mask);
}

const Entry* HashTable::RandomEntry(uint64_t (*next_random)(void*), void* rng) const {
  if (count() == 0) return nullptr;
  uint64_t span = bucket_count();
  // Random probes find a non-empty bucket quickly at the loads the resize policy
  // keeps; a pinned layout can leave a sparse table, so the probes are bounded
  // and a linear walk from a random start finishes the job.
  const Bucket* b = nullptr;
  uint64_t i = 0;
  for (int tries = 0; tries < 1000 && b == nullptr; tries++) {
    i = next_random(rng) % span;
    if (!buckets_[i].empty()) b = &buckets_[i];
  }
  for (uint64_t walked = 0; b == nullptr && walked < span; walked++) {
    i = (i + 1) % span;
    if (!buckets_[i].empty()) b = &buckets_[i];
  }
  RINGKV_CHECK(b != nullptr);
  uint64_t pick = next_random(rng) % b->size();
  const Entry* chosen = nullptr;
  b->ForEach([&](const Entry* e) {
    if (pick-- == 0) chosen = e;
  });
  return chosen;
}

}  // namespace ringkv::storage::hash
