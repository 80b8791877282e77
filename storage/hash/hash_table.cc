// HashTable implementation. See hash_table.h for the structure and invariants.
#include "storage/hash/hash_table.h"

#include <chrono>

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

HashTable::HashTable(uint64_t seed) : seed_(seed), buckets_(kMinBuckets) {}

HashTable::~HashTable() {
  uint64_t n = bucket_count();
  for (uint64_t i = 0; i < n; i++) {
    Entry* e = buckets_[i];
    while (e != nullptr) {
      Entry* next = e->next;
      alloc_.Free(e);
      e = next;
    }
  }
}

uint64_t HashTable::Hash(std::string_view key) const { return HashBytes(key, seed_); }

Entry* HashTable::Lookup(std::string_view key, uint64_t hash, uint64_t* index, Entry*** link) {
  uint64_t i = IndexOf(hash);
  for (Entry** l = &buckets_[i]; *l != nullptr; l = &(*l)->next) {
    if (EntryKey(*l) == key) {
      *index = i;
      *link = l;
      return *l;
    }
  }
  return nullptr;
}

Entry* HashTable::Find(std::string_view key) {
  StepForOp();
  uint64_t index;
  Entry** link;
  return Lookup(key, Hash(key), &index, &link);
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
  const char* end = begin + malloc_usable_size(const_cast<Entry*>(e));
  return value.data() < end && value.data() + value.size() > begin;
}

}  // namespace

bool HashTable::Put(std::string_view key, std::string_view value) {
  StepForOp();
  uint64_t hash = Hash(key);
  uint64_t index;
  Entry** link;
  Entry* old = Lookup(key, hash, &index, &link);
  if (old != nullptr) {
    bool keep_old = observer_ != nullptr && observer_->KeepRemoved();
    if (!keep_old && EntryAllocator::Fits(old, key.size(), value.size()) &&
        !PointsInto(old, value)) {
      // The header's PutVar of key_len rewrites the same bytes it read, so only the
      // value length can change the header's size.
      OverwriteInPlace(old, value);
      return false;
    }
    BeforeMutate(index);
    Entry* e = alloc_.New(key, value);
    e->next = old->next;
    *link = e;
    Dispose(old);
    return false;
  }
  index = IndexOf(hash);
  BeforeMutate(index);
  Entry* e = alloc_.New(key, value);
  e->next = buckets_[index];
  buckets_[index] = e;
  count_++;
  MaybeStartResize();
  return true;
}

bool HashTable::Erase(std::string_view key) {
  StepForOp();
  uint64_t hash = Hash(key);
  uint64_t index;
  Entry** link;
  Entry* e = Lookup(key, hash, &index, &link);
  if (e == nullptr) return false;
  BeforeMutate(index);
  *link = e->next;
  count_--;
  Dispose(e);
  MaybeStartResize();
  return true;
}

void HashTable::Dispose(Entry* e) {
  if (observer_ != nullptr && observer_->KeepRemoved()) {
    observer_->Retire(e);
  } else {
    alloc_.Free(e);
  }
}

void HashTable::Clear() {
  RINGKV_CHECK(layout_pins_ == 0);
  uint64_t n = bucket_count();
  for (uint64_t i = 0; i < n; i++) {
    Entry* e = buckets_[i];
    while (e != nullptr) {
      Entry* next = e->next;
      Dispose(e);
      e = next;
    }
  }
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
  if (count_ >= base_) {
    StartGrow();
  } else if (base_ > kMinBuckets && count_ < base_ / 8) {
    shrink_target_ = NextPowerOfTwo(count_);
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
  while ((to + 1) * sizeof(Entry*) > buckets_.resident_bytes()) {
    RINGKV_CHECK(buckets_.Populate() > 0);
  }
  uint64_t high_mask = 2 * base_ - 1;
  Entry** keep = &buckets_[from];
  Entry* e = buckets_[from];
  while (e != nullptr) {
    Entry* next = e->next;
    if ((Hash(EntryKey(e)) & high_mask) == to) {
      *keep = next;
      e->next = buckets_[to];
      buckets_[to] = e;
    } else {
      keep = &e->next;
    }
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
  Entry* e = buckets_[from];
  buckets_[from] = nullptr;
  while (e != nullptr) {
    Entry* next = e->next;
    e->next = buckets_[to];
    buckets_[to] = e;
    e = next;
  }
  split_--;
  if (split_ == 0) {
    resize_ = Resize::kNone;
    // Keep halving toward the target set when the shrink began, unless the
    // table has filled up again meanwhile.
    if (base_ > shrink_target_ && base_ > kMinBuckets && count_ < base_ / 2) StartHalving();
  }
}

bool HashTable::AdjustResident() {
  if (growing()) {
    uint64_t want = (base_ + split_) * sizeof(Entry*) + kPopulateAheadBytes;
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
    bool empty = growing() ? buckets_[split_] == nullptr : buckets_[split_ - 1 + base_] == nullptr;
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

uint64_t HashTable::ScanStep(uint64_t v, const EntryVisitor& visit) const {
  auto emit = [&](uint64_t index) {
    for (const Entry* e = buckets_[index]; e != nullptr; e = e->next) visit(e);
  };
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
  const Entry* head = nullptr;
  uint64_t i = 0;
  for (int tries = 0; tries < 1000 && head == nullptr; tries++) {
    i = next_random(rng) % span;
    head = buckets_[i];
  }
  for (uint64_t walked = 0; head == nullptr && walked < span; walked++) {
    i = (i + 1) % span;
    head = buckets_[i];
  }
  RINGKV_CHECK(head != nullptr);
  uint64_t len = 0;
  for (const Entry* e = head; e != nullptr; e = e->next) len++;
  uint64_t pick = next_random(rng) % len;
  const Entry* e = head;
  while (pick-- > 0) e = e->next;
  return e;
}

}  // namespace ringkv::storage::hash
