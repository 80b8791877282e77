#include "storage/cache/cached_engine.h"

#include <unordered_set>

#include "storage/base/check.h"

namespace ringkv::storage {

CachedEngine::CachedEngine(std::unique_ptr<Engine> inner, size_t cache_bytes)
    : inner_(std::move(inner)), cache_(cache_bytes) {
  RINGKV_CHECK(inner_ != nullptr);
  RINGKV_CHECK(cache_bytes > 0);
  name_ = std::string(inner_->name()) + "+cache";
}

Status CachedEngine::Get(std::string_view key, std::string* value) {
  switch (cache_.Lookup(key, value)) {
    case HotKeyCache::Hit::kPresent:
      hits_++;
      return Status::OK();
    case HotKeyCache::Hit::kAbsent:
      hits_++;
      return Status::NotFound();
    case HotKeyCache::Hit::kMiss:
      break;
  }
  misses_++;
  Status s = inner_->Get(key, value);
  if (s.ok()) {
    cache_.InsertPresent(key, *value);
  } else if (s.IsNotFound()) {
    cache_.InsertAbsent(key);
  }
  return s;
}

Status CachedEngine::Put(std::string_view key, std::string_view value) {
  const bool was_cached = cache_.Erase(key);
  Status s = inner_->Put(key, value);
  if (s.ok() && was_cached) cache_.InsertPresent(key, value);
  return s;
}

Status CachedEngine::Delete(std::string_view key) {
  const bool was_cached = cache_.Erase(key);
  Status s = inner_->Delete(key);
  if (s.ok() && was_cached) cache_.InsertAbsent(key);
  return s;
}

Status CachedEngine::Write(const WriteBatch& batch) {
  // Invalidate every key of the batch, remembering which were cached.
  std::unordered_set<std::string> was_cached;
  Status parse = batch.Iterate([&](WriteBatch::OpType, std::string_view key, std::string_view) {
    if (cache_.Erase(key)) was_cached.emplace(key);
  });
  // A damaged batch: the inner engine must reject it too; nothing is cached
  // for its parsed keys, so whatever the inner engine does stays coherent.
  Status s = inner_->Write(batch);
  if (!s.ok() || !parse.ok() || was_cached.empty()) return s;
  // Replay in order so the last op on a key wins, as in the engine.
  Status replay = batch.Iterate(
      [&](WriteBatch::OpType type, std::string_view key, std::string_view value) {
        if (was_cached.count(std::string(key)) == 0) return;
        if (type == WriteBatch::OpType::kPut) {
          cache_.InsertPresent(key, value);
        } else {
          cache_.InsertAbsent(key);
        }
      });
  RINGKV_CHECK(replay.ok());  // it parsed a moment ago
  return s;
}

Status CachedEngine::Restore(Iterator* source, uint64_t applied_index) {
  cache_.Clear();
  Status s = inner_->Restore(source, applied_index);
  cache_.Clear();
  return s;
}

Status CachedEngine::Clear() {
  cache_.Clear();
  Status s = inner_->Clear();
  cache_.Clear();
  return s;
}

EngineStats CachedEngine::Stats() const {
  EngineStats st = inner_->Stats();
  st.memory_bytes += cache_.bytes();
  if (st.cache_hits == 0 && st.cache_misses == 0) {
    st.cache_hits = hits_;
    st.cache_misses = misses_;
  }
  st.extra.emplace_back("hot_cache_hits", std::to_string(hits_));
  st.extra.emplace_back("hot_cache_misses", std::to_string(misses_));
  st.extra.emplace_back("hot_cache_bytes", std::to_string(cache_.bytes()));
  st.extra.emplace_back("hot_cache_capacity_bytes", std::to_string(cache_.capacity_bytes()));
  st.extra.emplace_back("hot_cache_entries", std::to_string(cache_.entries()));
  st.extra.emplace_back("hot_cache_absent_entries", std::to_string(cache_.absent_entries()));
  st.extra.emplace_back("hot_cache_evictions", std::to_string(cache_.evictions()));
  return st;
}

std::unique_ptr<Engine> NewCachedEngine(std::unique_ptr<Engine> inner, size_t cache_bytes) {
  return std::make_unique<CachedEngine>(std::move(inner), cache_bytes);
}

}  // namespace ringkv::storage
