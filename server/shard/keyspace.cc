// Keyspace: lazy and active expiry over one engine. See keyspace.h.
#include "server/shard/keyspace.h"

#include <utility>

namespace ringkv::server {
namespace {

uint32_t ClockSeconds(int64_t now_ms) {
  return now_ms <= 0 ? 0 : static_cast<uint32_t>(now_ms / 1000);
}

}  // namespace

Keyspace::Keyspace(std::unique_ptr<storage::Engine> engine, KeyspaceStats* stats)
    : engine_(std::move(engine)), stats_(stats) {
  RINGKV_CHECK(engine_ != nullptr && stats_ != nullptr);
  Recount();
}

void Keyspace::Recount() {
  // A reopened or restored engine: count its keys and TTL keys in one ordered
  // pass (a SCAN cursor may visit a key twice, which SCAN allows but a count
  // must not).
  uint64_t keys = 0;
  uint64_t with_expire = 0;
  std::unique_ptr<storage::Iterator> it = engine_->NewSnapshotIterator();
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    keys++;
    int64_t expire_ms = 0;
    if (PeekExpire(it->value(), &expire_ms) && expire_ms != 0) with_expire++;
  }
  key_count_.store(keys, std::memory_order_relaxed);
  expires_count_.store(with_expire, std::memory_order_relaxed);
}

Status Keyspace::DeleteExpired(std::string_view key) {
  RINGKV_RETURN_IF_ERROR(engine_->Delete(key));
  CountDelete(/*had_expire=*/true);
  stats_->expired_keys.fetch_add(1, std::memory_order_relaxed);
  return Status::OK();
}

void Keyspace::CountPut(Prior prior, bool now_has_expire) {
  RINGKV_DCHECK(prior != Prior::kUnknown);
  if (prior == Prior::kAbsent) key_count_.fetch_add(1, std::memory_order_relaxed);
  const bool had = prior == Prior::kHasExpire;
  if (had && !now_has_expire) {
    RINGKV_CHECK(expires_count_.load(std::memory_order_relaxed) > 0);
    expires_count_.fetch_sub(1, std::memory_order_relaxed);
  } else if (!had && now_has_expire) {
    expires_count_.fetch_add(1, std::memory_order_relaxed);
  }
}

void Keyspace::CountDelete(bool had_expire) {
  // A key count gone wrong is a bug, but DBSIZE must not take the node down.
  RINGKV_DCHECK(key_count_.load(std::memory_order_relaxed) > 0);
  if (key_count_.load(std::memory_order_relaxed) > 0) {
    key_count_.fetch_sub(1, std::memory_order_relaxed);
  }
  if (had_expire) {
    RINGKV_CHECK(expires_count_.load(std::memory_order_relaxed) > 0);
    expires_count_.fetch_sub(1, std::memory_order_relaxed);
  }
}

namespace {
std::atomic<bool> g_replicated{false};
thread_local int t_apply_depth = 0;

// Whether this thread may delete a key because it expired (see SetReplicated).
bool MayDeleteExpired() {
  return t_apply_depth > 0 || !g_replicated.load(std::memory_order_relaxed);
}
}  // namespace

void Keyspace::SetReplicated(bool replicated) { g_replicated.store(replicated); }
bool Keyspace::replicated() { return g_replicated.load(std::memory_order_relaxed); }
Keyspace::ApplyScope::ApplyScope() { ++t_apply_depth; }
Keyspace::ApplyScope::~ApplyScope() { --t_apply_depth; }

Result<std::vector<std::string>> Keyspace::SampleExpired(int64_t now_ms, size_t count) {
  std::vector<std::string> expired;
  auto next =
      engine_->ScanCursor(expire_cursor_, count, [&](std::string_view k, std::string_view v) {
        int64_t expire_ms = 0;
        if (PeekExpire(v, &expire_ms) && expire_ms != 0 && expire_ms < now_ms) {
          expired.emplace_back(k);
        }
      });
  if (!next.ok()) return next.status();
  expire_cursor_ = *next;
  return expired;
}

Status Keyspace::Find(std::string_view key, int64_t now_ms, Lookup mode, Entry* entry) {
  Status s = engine_->Get(key, &entry->stored);
  if (s.IsNotFound()) {
    if (mode == Lookup::kRead) stats_->keyspace_misses.fetch_add(1, std::memory_order_relaxed);
    return s;
  }
  RINGKV_RETURN_IF_ERROR(s);
  RINGKV_RETURN_IF_ERROR(DecodeValue(entry->stored, &entry->view));
  if (entry->view.ExpiredAt(now_ms)) {
    if (MayDeleteExpired()) RINGKV_RETURN_IF_ERROR(DeleteExpired(key));
    if (mode == Lookup::kRead) stats_->keyspace_misses.fetch_add(1, std::memory_order_relaxed);
    return Status::NotFound();
  }
  if (mode == Lookup::kRead) stats_->keyspace_hits.fetch_add(1, std::memory_order_relaxed);
  return Status::OK();
}

Status Keyspace::PutString(std::string_view key, std::string_view payload, int64_t expire_ms,
                           uint8_t flags, int64_t now_ms, Prior prior) {
  RINGKV_CHECK(expire_ms >= 0);
  if (prior == Prior::kUnknown) {
    std::string old;
    Status s = engine_->Get(key, &old);
    if (s.IsNotFound()) {
      prior = Prior::kAbsent;
    } else {
      RINGKV_RETURN_IF_ERROR(s);
      int64_t old_expire = 0;
      if (!PeekExpire(old, &old_expire)) return Status::Corruption("stored value header");
      prior = old_expire != 0 ? Prior::kHasExpire : Prior::kNoExpire;
    }
  }
  EncodeValue(ValueType::kString, flags, expire_ms, ClockSeconds(now_ms), payload, &scratch_);
  RINGKV_RETURN_IF_ERROR(engine_->Put(key, scratch_));
  CountPut(prior, expire_ms != 0);
  return Status::OK();
}

Status Keyspace::SetExpire(std::string_view key, const Entry& entry, int64_t expire_ms,
                           int64_t now_ms) {
  RINGKV_CHECK(expire_ms >= 0);
  EncodeValue(entry.view.type, entry.view.flags, expire_ms, ClockSeconds(now_ms),
              entry.view.payload, &scratch_);
  RINGKV_RETURN_IF_ERROR(engine_->Put(key, scratch_));
  CountPut(PriorOf(true, entry), expire_ms != 0);
  return Status::OK();
}

Status Keyspace::PutEntry(std::string_view key, const Entry& entry, int64_t expire_ms,
                          Prior prior) {
  RINGKV_CHECK(expire_ms >= 0);
  RINGKV_CHECK(prior != Prior::kUnknown);
  EncodeValue(entry.view.type, entry.view.flags, expire_ms, entry.view.write_clock_s,
              entry.view.payload, &scratch_);
  RINGKV_RETURN_IF_ERROR(engine_->Put(key, scratch_));
  CountPut(prior, expire_ms != 0);
  return Status::OK();
}

Status Keyspace::Delete(std::string_view key, int64_t now_ms, bool* deleted) {
  *deleted = false;
  Entry entry;
  Status s = Find(key, now_ms, Lookup::kWrite, &entry);
  if (s.IsNotFound()) return Status::OK();
  RINGKV_RETURN_IF_ERROR(s);
  RINGKV_RETURN_IF_ERROR(DeleteFound(key, entry));
  *deleted = true;
  return Status::OK();
}

Status Keyspace::DeleteFound(std::string_view key, const Entry& entry) {
  RINGKV_RETURN_IF_ERROR(engine_->Delete(key));
  CountDelete(entry.view.has_expire());
  return Status::OK();
}

Result<uint64_t> Keyspace::Scan(uint64_t cursor, size_t count, int64_t now_ms,
                                const Visitor& visit) {
  std::vector<std::string> expired;
  Status corrupt;
  auto next = engine_->ScanCursor(cursor, count, [&](std::string_view k, std::string_view v) {
    ValueView view;
    Status s = DecodeValue(v, &view);
    if (!s.ok()) {
      corrupt = s;
      return;
    }
    if (view.ExpiredAt(now_ms)) {
      expired.emplace_back(k);
    } else {
      visit(k, view);
    }
  });
  if (!next.ok()) return next.status();
  if (!corrupt.ok()) return corrupt;
  // Deleting inside the visitor would mutate the engine mid-scan.
  if (!MayDeleteExpired()) expired.clear();
  for (const std::string& k : expired) RINGKV_RETURN_IF_ERROR(DeleteExpired(k));
  return next;
}

Result<Keyspace::ExpireStep> Keyspace::ActiveExpireStep(int64_t now_ms, size_t count) {
  ExpireStep step;
  std::vector<std::string> expired;
  auto next =
      engine_->ScanCursor(expire_cursor_, count, [&](std::string_view k, std::string_view v) {
        step.visited++;
        int64_t expire_ms = 0;
        if (!PeekExpire(v, &expire_ms) || expire_ms == 0) return;
        step.sampled++;
        if (expire_ms < now_ms) expired.emplace_back(k);
      });
  if (!next.ok()) return next.status();
  expire_cursor_ = *next;
  step.wrapped = expire_cursor_ == 0;
  for (const std::string& k : expired) RINGKV_RETURN_IF_ERROR(DeleteExpired(k));
  step.expired = expired.size();
  return step;
}

Status Keyspace::RandomKey(int64_t now_ms, uint64_t random, std::string* key) {
  return RandomKeyImpl(now_ms, random, false, key);
}

Status Keyspace::RandomVolatileKey(int64_t now_ms, uint64_t random, std::string* key) {
  return RandomKeyImpl(now_ms, random, true, key);
}

Status Keyspace::RandomKeyImpl(int64_t now_ms, uint64_t random, bool volatile_only,
                               std::string* key) {
  // A cheap mix of the caller's random number for successive choices.
  auto next_random = [&random]() {
    random ^= random << 13;
    random ^= random >> 7;
    random ^= random << 17;
    return random;
  };
  if (random == 0) random = 0x9e3779b97f4a7c15ull;
  std::vector<std::string> candidates;
  // Two full passes at most: after the cursor wrapped twice without a live
  // candidate the shard has none.
  int wraps = 0;
  for (int steps = 0; steps < (1 << 20) && wraps < 2; steps++) {
    if (KeyCount() == 0 || (volatile_only && ExpiresCount() == 0)) break;
    // Skip a random number of small steps so consecutive calls do not return
    // neighbouring keys.
    const size_t batch = 1 + next_random() % 16;
    candidates.clear();
    auto r = Scan(random_cursor_, batch, now_ms, [&](std::string_view k, const ValueView& v) {
      if (!volatile_only || v.has_expire()) candidates.emplace_back(k);
    });
    if (!r.ok()) return r.status();
    random_cursor_ = *r;
    if (random_cursor_ == 0) wraps++;
    if (!candidates.empty() && (next_random() % 4 != 0 || wraps > 0)) {
      *key = std::move(candidates[next_random() % candidates.size()]);
      return Status::OK();
    }
  }
  return Status::NotFound();
}

Status Keyspace::Clear() {
  RINGKV_RETURN_IF_ERROR(engine_->Clear());
  key_count_.store(0, std::memory_order_relaxed);
  expires_count_.store(0, std::memory_order_relaxed);
  expire_cursor_ = 0;
  random_cursor_ = 0;
  return Status::OK();
}

}  // namespace ringkv::server
