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

HashTable::HashTable(uint64_t seed) : seed_(seed) { InitTable(&tables_[0], kMinBuckets); }

HashTable::~HashTable() {
  for (int t = 0; t < 2; t++) {
    Table& tab = tables_[t];
    for (uint64_t i = 0; i < tab.size; i++) {
      Entry* e = tab.buckets[i];
      while (e != nullptr) {
        Entry* next = e->next;
        alloc_.Free(e);
        e = next;
      }
    }
    if (tab.buckets != nullptr)
      releases_.Release(tab.buckets, tab.size, t == 0 ? dropped_bytes_ : 0);
  }
  // releases_'s destructor unmaps what is left.
}

void HashTable::InitTable(Table* t, uint64_t size) {
  t->buckets = AllocateBuckets(size);
  t->size = size;
  t->mask = size - 1;
  t->used = 0;
}

uint64_t HashTable::Hash(std::string_view key) const { return HashBytes(key, seed_); }

Entry* HashTable::Lookup(std::string_view key, uint64_t hash, int* table, Entry*** link) {
  for (int t = 0; t < 2; t++) {
    Table& tab = tables_[t];
    if (tab.size == 0) break;
    uint64_t index = hash & tab.mask;
    // Buckets below rehash_idx_ have moved to tables_[1] already.
    if (t == 0 && static_cast<int64_t>(index) < rehash_idx_) continue;
    for (Entry** l = &tab.buckets[index]; *l != nullptr; l = &(*l)->next) {
      if (EntryKey(*l) == key) {
        *table = t;
        *link = l;
        return *l;
      }
    }
  }
  return nullptr;
}

Entry* HashTable::Find(std::string_view key) {
  StepForOp();
  int t;
  Entry** link;
  return Lookup(key, Hash(key), &t, &link);
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
  int t;
  Entry** link;
  Entry* old = Lookup(key, hash, &t, &link);
  if (old != nullptr) {
    bool keep_old = observer_ != nullptr && observer_->KeepRemoved();
    if (!keep_old && EntryAllocator::Fits(old, key.size(), value.size()) &&
        !PointsInto(old, value)) {
      // The header's PutVar of key_len rewrites the same bytes it read, so only the
      // value length can change the header's size.
      OverwriteInPlace(old, value);
      return false;
    }
    BeforeMutate(t, hash & tables_[t].mask);
    Entry* e = alloc_.New(key, value);
    e->next = old->next;
    *link = e;
    Dispose(old);
    return false;
  }
  int target = rehashing() ? 1 : 0;
  Table& tab = tables_[target];
  uint64_t index = hash & tab.mask;
  BeforeMutate(target, index);
  Entry* e = alloc_.New(key, value);
  e->next = tab.buckets[index];
  tab.buckets[index] = e;
  tab.used++;
  MaybeStartResize();
  return true;
}

bool HashTable::Erase(std::string_view key) {
  StepForOp();
  uint64_t hash = Hash(key);
  int t;
  Entry** link;
  Entry* e = Lookup(key, hash, &t, &link);
  if (e == nullptr) return false;
  BeforeMutate(t, hash & tables_[t].mask);
  *link = e->next;
  tables_[t].used--;
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
  for (int t = 0; t < 2; t++) {
    Table& tab = tables_[t];
    for (uint64_t i = 0; i < tab.size; i++) {
      Entry* e = tab.buckets[i];
      while (e != nullptr) {
        Entry* next = e->next;
        Dispose(e);
        e = next;
      }
    }
    if (tab.buckets != nullptr)
      releases_.Release(tab.buckets, tab.size, t == 0 ? dropped_bytes_ : 0);
    tab = Table{};
  }
  dropped_bytes_ = 0;
  rehash_idx_ = -1;
  InitTable(&tables_[0], kMinBuckets);
}

void HashTable::MaybeStartResize() {
  if (rehashing() || layout_pins_ > 0) return;
  uint64_t n = count();
  uint64_t size = tables_[0].size;
  if (n >= size) {
    StartResize(NextPowerOfTwo(n + 1));
  } else if (size > kMinBuckets && n < size / 8) {
    StartResize(NextPowerOfTwo(n));
  }
}

void HashTable::StartResize(uint64_t new_size) {
  RINGKV_CHECK(!rehashing() && new_size != tables_[0].size);
  InitTable(&tables_[1], new_size);
  rehash_idx_ = 0;
  FinishRehashIfDone();
}

void HashTable::FinishRehashIfDone() {
  if (tables_[0].used != 0) return;
  releases_.Release(tables_[0].buckets, tables_[0].size, dropped_bytes_);
  dropped_bytes_ = 0;
  tables_[0] = tables_[1];
  tables_[1] = Table{};
  rehash_idx_ = -1;
}

void HashTable::DropMovedPages() {
  if (!IsMapped(tables_[0].size)) return;
  uint64_t moved_bytes = static_cast<uint64_t>(rehash_idx_) * sizeof(Entry*);
  uint64_t upto = moved_bytes & ~(kDropChunkBytes - 1);
  if (upto <= dropped_bytes_) return;
  DropBucketPages(tables_[0].buckets, dropped_bytes_, upto);
  dropped_bytes_ = upto;
}

void HashTable::UnpinLayout() {
  RINGKV_CHECK(layout_pins_ > 0);
  layout_pins_--;
  if (layout_pins_ == 0) MaybeStartResize();
}

bool HashTable::RehashStep(uint64_t max_buckets) {
  releases_.Step();
  if (!rehashing() || layout_pins_ > 0) return rehashing() || !releases_.empty();
  Table& from = tables_[0];
  Table& to = tables_[1];
  uint64_t empty_visits = max_buckets * kEmptyVisitsPerBucket;
  for (uint64_t moved = 0; moved < max_buckets && from.used > 0; moved++) {
    RINGKV_CHECK(static_cast<uint64_t>(rehash_idx_) < from.size);
    while (from.buckets[rehash_idx_] == nullptr) {
      rehash_idx_++;
      RINGKV_CHECK(static_cast<uint64_t>(rehash_idx_) < from.size);
      if (--empty_visits == 0) return true;
    }
    Entry* e = from.buckets[rehash_idx_];
    while (e != nullptr) {
      Entry* next = e->next;
      uint64_t index = Hash(EntryKey(e)) & to.mask;
      e->next = to.buckets[index];
      to.buckets[index] = e;
      from.used--;
      to.used++;
      e = next;
    }
    from.buckets[rehash_idx_] = nullptr;
    rehash_idx_++;
  }
  DropMovedPages();
  FinishRehashIfDone();
  if (!rehashing()) MaybeStartResize();
  return rehashing() || !releases_.empty();
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
  auto emit = [&](const Table& tab, uint64_t index) {
    for (const Entry* e = tab.buckets[index]; e != nullptr; e = e->next) visit(e);
  };
  if (!rehashing()) {
    const Table& t0 = tables_[0];
    emit(t0, v & t0.mask);
    return ReverseIncrement(v, t0.mask);
  }
  const Table* small = &tables_[0];
  const Table* large = &tables_[1];
  if (small->size > large->size) std::swap(small, large);
  uint64_t m0 = small->mask;
  uint64_t m1 = large->mask;
  emit(*small, v & m0);
  // Visit every bucket of the larger table that the small bucket expands to.
  do {
    emit(*large, v & m1);
    v = ReverseIncrement(v, m1);
  } while (v & (m0 ^ m1));
  return v;
}

const Entry* HashTable::RandomEntry(uint64_t (*next_random)(void*), void* rng) const {
  if (count() == 0) return nullptr;
  uint64_t first = rehashing() ? static_cast<uint64_t>(rehash_idx_) : 0;
  uint64_t span = tables_[0].size + tables_[1].size - first;
  auto bucket_at = [&](uint64_t i) -> const Entry* {
    return i < tables_[0].size ? tables_[0].buckets[i] : tables_[1].buckets[i - tables_[0].size];
  };
  // Random probes find a non-empty bucket quickly at the loads the resize policy
  // keeps; a pinned layout can leave a sparse table, so the probes are bounded
  // and a linear walk from a random start finishes the job.
  const Entry* head = nullptr;
  uint64_t i = 0;
  for (int tries = 0; tries < 1000 && head == nullptr; tries++) {
    i = first + next_random(rng) % span;
    head = bucket_at(i);
  }
  for (uint64_t walked = 0; head == nullptr && walked < span; walked++) {
    i = first + (i - first + 1) % span;
    head = bucket_at(i);
  }
  RINGKV_CHECK(head != nullptr);
  uint64_t len = 0;
  for (const Entry* e = head; e != nullptr; e = e->next) len++;
  uint64_t pick = next_random(rng) % len;
  const Entry* e = head;
  while (pick-- > 0) e = e->next;
  return e;
}

uint64_t HashTable::memory_bytes() const {
  return alloc_.bytes() + bucket_bytes() + releases_.pending_bytes();
}

}  // namespace ringkv::storage::hash
