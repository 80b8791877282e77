// HashEngine: storage::Engine over HashTable. See hash_engine.h.
#include "storage/hash/hash_engine.h"

#include <queue>
#include <random>

namespace ringkv::storage {

Result<std::unique_ptr<Engine>> OpenHashEngine(const EngineOptions& options) {
  std::random_device rd;
  uint64_t seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  std::unique_ptr<Engine> engine = std::make_unique<hash::HashEngine>(options, seed);
  return engine;
}

namespace hash {

namespace {
constexpr uint64_t kMaxCursor = (uint64_t{1} << 48) - 1;
}  // namespace

HashEngine::HashEngine(const EngineOptions& /*options*/, uint64_t hash_seed)
    : table_(std::make_unique<HashTable>(hash_seed, &alloc_)),
      snapshots_(table_.get()),
      rng_state_(hash_seed ^ 0x9e3779b97f4a7c15ull) {}

// The registry checks that no iterator is open; the table frees the entries.
HashEngine::~HashEngine() = default;

Status HashEngine::Get(std::string_view key, std::string* value) {
  const Entry* e = table_->Find(key);
  if (e == nullptr) return Status::NotFound();
  std::string_view v = DecodeEntry(e).value;
  value->assign(v.data(), v.size());
  return Status::OK();
}

Status HashEngine::Put(std::string_view key, std::string_view value) {
  user_bytes_written_ += key.size() + value.size();
  table_->Put(key, value);
  return Status::OK();
}

Status HashEngine::Delete(std::string_view key) {
  table_->Erase(key);
  return Status::OK();
}

Status HashEngine::Write(const WriteBatch& batch) {
  // Validate first: Iterate stops at the first damaged op, and applying a prefix
  // would break the batch's atomicity.
  RINGKV_RETURN_IF_ERROR(
      batch.Iterate([](WriteBatch::OpType, std::string_view, std::string_view) {}));
  Status s =
      batch.Iterate([this](WriteBatch::OpType type, std::string_view key, std::string_view value) {
        if (type == WriteBatch::OpType::kPut) {
          user_bytes_written_ += key.size() + value.size();
          table_->Put(key, value);
        } else {
          table_->Erase(key);
        }
      });
  RINGKV_CHECK(s.ok());  // validated above
  return Status::OK();
}

Status HashEngine::VisitRange(std::string_view start, size_t limit, const ScanVisitor& visit) {
  if (limit == 0) return Status::OK();
  // Max-heap of the `limit` smallest keys >= start seen so far.
  auto key_less = [](const Entry* a, const Entry* b) { return EntryKey(a) < EntryKey(b); };
  std::priority_queue<const Entry*, std::vector<const Entry*>, decltype(key_less)> heap(key_less);
  table_->ForEach([&](const Entry* e) {
    std::string_view k = EntryKey(e);
    if (k < start) return;
    if (heap.size() < limit) {
      heap.push(e);
    } else if (k < EntryKey(heap.top())) {
      heap.pop();
      heap.push(e);
    }
  });
  std::vector<const Entry*> picked;
  picked.reserve(heap.size());
  while (!heap.empty()) {
    picked.push_back(heap.top());
    heap.pop();
  }
  for (auto it = picked.rbegin(); it != picked.rend(); ++it) {
    EntryView v = DecodeEntry(*it);
    visit(v.key, v.value);
  }
  return Status::OK();
}

Result<uint64_t> HashEngine::ScanCursor(uint64_t cursor, size_t count, const ScanVisitor& visit) {
  if (cursor > kMaxCursor) return Status::InvalidArgument("scan cursor above 48 bits");
  if (count == 0) count = 1;
  size_t visited = 0;
  // Like Redis, give up on a call after 10 buckets per requested key, so a
  // sparse table cannot make one call walk it all. Saturates for huge counts.
  uint64_t max_steps = count > (uint64_t{1} << 40) ? UINT64_MAX : static_cast<uint64_t>(count) * 10;
  HashTable::EntryVisitor on_entry = [&](const Entry* e) {
    EntryView v = DecodeEntry(e);
    visit(v.key, v.value);
    visited++;
  };
  do {
    cursor = table_->ScanStep(cursor, on_entry);
  } while (cursor != 0 && visited < count && --max_steps > 0);
  RINGKV_DCHECK(cursor <= kMaxCursor);
  return cursor;
}

std::unique_ptr<Iterator> HashEngine::NewSnapshotIterator() { return snapshots_.NewIterator(); }

Status HashEngine::Restore(Iterator* source, uint64_t applied_index) {
  auto fresh = std::make_unique<HashTable>(table_->seed(), &alloc_);
  for (source->SeekToFirst(); source->Valid(); source->Next()) {
    fresh->Put(source->key(), source->value());
  }
  RINGKV_RETURN_IF_ERROR(source->status());
  // Open snapshots keep reading the old contents: detach them, then retire (or,
  // with no snapshot open, free) the old entries.
  snapshots_.DetachAll();
  table_->Clear();
  std::unique_ptr<HashTable> old = std::move(table_);
  table_ = std::move(fresh);
  snapshots_.Rebind(table_.get());
  old.reset();
  applied_index_ = applied_index;
  return Status::OK();
}

Status HashEngine::Clear() {
  snapshots_.DetachAll();
  table_->Clear();
  return Status::OK();
}

uint64_t HashEngine::EntryFootprint(size_t key_bytes, size_t value_bytes) const {
  const size_t bytes = EntryBytes(key_bytes, value_bytes);
  const size_t held = bytes <= EntryArena::kMaxSlotBytes
                          ? EntryArena::SlotBytes(EntryArena::ClassFor(bytes))
                          : bytes;
  return held + sizeof(uint64_t);
}

EngineStats HashEngine::Stats() const {
  EngineStats s;
  s.keys = table_->count();
  s.memory_bytes = table_->memory_bytes() + snapshots_.memory_bytes() + alloc_.overhead_bytes();
  s.user_bytes_written = user_bytes_written_;
  s.extra.emplace_back("hash_buckets", std::to_string(table_->bucket_count()));
  s.extra.emplace_back("hash_entry_bytes", std::to_string(table_->entry_bytes()));
  s.extra.emplace_back("hash_bucket_bytes", std::to_string(table_->bucket_bytes()));
  s.extra.emplace_back("hash_arena_resident_bytes", std::to_string(alloc_.arena().resident_bytes()));
  s.extra.emplace_back("hash_rehashing", table_->rehashing() ? "1" : "0");
  s.extra.emplace_back("hash_open_snapshots", std::to_string(snapshots_.open_count()));
  s.extra.emplace_back("hash_retired_entries", std::to_string(snapshots_.retired_entries()));
  return s;
}

uint64_t HashEngine::NextRandom(void* state) {
  // splitmix64
  uint64_t& x = *static_cast<uint64_t*>(state);
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

Result<std::string> HashEngine::RandomKey() {
  const Entry* e = table_->RandomEntry(&HashEngine::NextRandom, &rng_state_);
  if (e == nullptr) return Status::NotFound("empty");
  return std::string(EntryKey(e));
}

}  // namespace hash
}  // namespace ringkv::storage
