// ShardSet: shard map, ordered locking and active expiry. See shard_set.h.
#include "server/shard/shard_set.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <utility>

#include "ring/key_slot.h"

namespace ringkv::server {
namespace {

// Redis's ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP and ..._ACCEPTABLE_STALE.
constexpr size_t kExpireKeysPerLoop = 20;
constexpr uint64_t kAcceptableStalePercent = 10;
// Engine keys one step may visit while looking for kExpireKeysPerLoop keys
// with a TTL (a shard where few keys have one).
constexpr size_t kExpireVisitPerLoop = kExpireKeysPerLoop * 8;

int64_t MonotonicMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ShardSet::ShardSet(uint32_t shard_count)
    : expire_next_(new std::atomic<uint32_t>[shard_count]) {
  shards_.reserve(shard_count);
  for (uint32_t i = 0; i < shard_count; i++) {
    shards_.push_back(std::make_unique<Shard>());
    expire_next_[i].store(0, std::memory_order_relaxed);
  }
}

ShardSet::~ShardSet() = default;

Result<std::unique_ptr<ShardSet>> ShardSet::Open(const Options& options) {
  if (options.shard_count == 0 || options.shard_count > ring::kNumSlots) {
    return Status::InvalidArgument("shard count must be in 1..16384");
  }
  std::unique_ptr<ShardSet> set(new ShardSet(options.shard_count));
  for (uint32_t i = 0; i < options.shard_count; i++) {
    storage::EngineOptions eo = options.engine;
    if (!eo.dir.empty()) eo.dir += "/shard-" + std::to_string(i);
    auto engine = storage::OpenEngine(eo);
    if (!engine.ok()) return engine.status();
    set->shards_[i]->keyspace =
        std::make_unique<Keyspace>(std::move(engine).value(), &set->stats_);
  }
  return set;
}

uint32_t ShardSet::ShardOfSlot(uint32_t slot, uint32_t shard_count) {
  // Shard i owns [ceil(i*N/S), ceil((i+1)*N/S)); the inverse is floor(slot*S/N).
  return static_cast<uint32_t>((uint64_t{slot} * shard_count) / ring::kNumSlots);
}

uint32_t ShardSet::ShardOf(std::string_view key) const {
  return ShardOfSlot(ring::KeySlot(key), shard_count());
}

// ---- Locked ----

ShardSet::Locked::Locked(ShardSet* set, uint32_t shard) : set_(set), one_(shard), count_(1) {
  set_->shards_[shard]->mu.lock();
}

ShardSet::Locked::Locked(ShardSet* set, std::vector<uint32_t> sorted_shards)
    : set_(set), many_(std::move(sorted_shards)) {
  if (many_.size() == 1) {
    one_ = many_[0];
    many_.clear();
    count_ = 1;
  } else {
    count_ = static_cast<uint32_t>(many_.size());
  }
  for (uint32_t s : shards()) set_->shards_[s]->mu.lock();
}

ShardSet::Locked::Locked(Locked&& other) noexcept
    : set_(other.set_), one_(other.one_), count_(other.count_), many_(std::move(other.many_)) {
  other.count_ = 0;
  other.many_.clear();
}

ShardSet::Locked::~Locked() {
  if (count_ == 0) return;
  auto held = shards();
  for (auto it = held.rbegin(); it != held.rend(); ++it) set_->shards_[*it]->mu.unlock();
}

bool ShardSet::Locked::Holds(uint32_t shard) const {
  if (count_ == 1) return shard == one_;
  // Guards hold one shard, a few, or all of them; all is the common large case.
  if (many_.size() == set_->shards_.size()) return shard < many_.size();
  return std::binary_search(many_.begin(), many_.end(), shard);
}

Keyspace& ShardSet::Locked::Shard(uint32_t shard) {
  RINGKV_CHECK(Holds(shard));
  return *set_->shards_[shard]->keyspace;
}

Keyspace& ShardSet::Locked::For(std::string_view key) { return Shard(set_->ShardOf(key)); }

ShardSet::Locked ShardSet::LockSorted(std::vector<uint32_t> shards) {
  std::sort(shards.begin(), shards.end());
  shards.erase(std::unique(shards.begin(), shards.end()), shards.end());
  return Locked(this, std::move(shards));
}

ShardSet::Locked ShardSet::LockKey(std::string_view key) { return Locked(this, ShardOf(key)); }

ShardSet::Locked ShardSet::LockKeys(std::span<const std::string_view> keys) {
  std::vector<uint32_t> shards;
  shards.reserve(keys.size());
  for (std::string_view k : keys) shards.push_back(ShardOf(k));
  return LockSorted(std::move(shards));
}

ShardSet::Locked ShardSet::LockShard(uint32_t shard) {
  RINGKV_CHECK(shard < shard_count());
  return Locked(this, shard);
}

ShardSet::Locked ShardSet::LockAll() {
  std::vector<uint32_t> shards(shard_count());
  for (uint32_t i = 0; i < shard_count(); i++) shards[i] = i;
  return Locked(this, std::move(shards));
}

// ---- Active expiry ----

uint64_t ShardSet::ActiveExpireCycle(uint32_t thread_index, uint32_t threads, int64_t now_ms,
                                     int64_t budget_us) {
  RINGKV_CHECK(threads > 0 && thread_index < threads);
  const uint32_t n = shard_count();
  if (thread_index >= n) return 0;  // more threads than shards: nothing to serve
  const int64_t start_us = MonotonicMicros();
  const uint32_t mine = (n - thread_index + threads - 1) / threads;  // shards of this thread
  uint64_t total_sampled = 0, total_expired = 0;
  bool timed_out = false;
  uint32_t pos = expire_next_[thread_index].load(std::memory_order_relaxed) % mine;
  uint32_t done = 0;
  for (; done < mine && !timed_out; done++) {
    const uint32_t shard = thread_index + ((pos + done) % mine) * threads;
    Shard& sh = *shards_[shard];
    if (sh.keyspace->ExpiresCount() == 0) continue;
    // Redis's adaptive loop: keep sampling this shard while more than 10% of
    // the sampled TTL keys were expired, there is time left, and the cursor
    // has not gone round the whole shard in this cycle.
    for (uint64_t iteration = 0;; iteration++) {
      Keyspace::ExpireStep step;
      {
        std::lock_guard<std::mutex> lock(sh.mu);
        if (sh.keyspace->ExpiresCount() == 0) break;
        // Ask for enough engine keys to find ~20 TTL keys in a mixed shard.
        const uint64_t keys = std::max<uint64_t>(1, sh.keyspace->KeyCount());
        const uint64_t ttl = sh.keyspace->ExpiresCount();
        size_t want = static_cast<size_t>(
            std::min<uint64_t>(kExpireVisitPerLoop, kExpireKeysPerLoop * keys / std::max<uint64_t>(ttl, 1)));
        auto r = sh.keyspace->ActiveExpireStep(now_ms, std::max<size_t>(want, kExpireKeysPerLoop));
        if (!r.ok()) break;  // an engine error: leave the keys to lazy expiry
        step = *r;
      }
      total_sampled += step.sampled;
      total_expired += step.expired;
      if (MonotonicMicros() - start_us > budget_us) {
        timed_out = true;
        break;
      }
      if (step.wrapped) break;
      if (step.sampled == 0) continue;
      if (step.expired * 100 <= step.sampled * kAcceptableStalePercent) break;
      if (iteration > (uint64_t{1} << 30)) break;  // bounded even with a huge budget
    }
  }
  // Resume after the last shard worked on, so a cut-short cycle rotates.
  expire_next_[thread_index].store((pos + done) % mine, std::memory_order_relaxed);
  const int64_t used_us = MonotonicMicros() - start_us;
  stats_.expire_cycle_time_used_us.fetch_add(static_cast<uint64_t>(std::max<int64_t>(used_us, 0)),
                                             std::memory_order_relaxed);
  stats_.active_expire_cycles.fetch_add(1, std::memory_order_relaxed);
  if (timed_out) stats_.expired_time_cap_reached_count.fetch_add(1, std::memory_order_relaxed);
  if (total_sampled > 0) {
    // Redis: stat_expired_stale_perc = current_perc*0.05 + previous*0.95.
    const double current = static_cast<double>(total_expired) * 100.0 /
                           static_cast<double>(total_sampled);
    const double prev = stats_.expired_stale_perc.load(std::memory_order_relaxed);
    stats_.expired_stale_perc.store(current * 0.05 + prev * 0.95, std::memory_order_relaxed);
  }
  return total_expired;
}

// ---- Eviction ----

uint64_t ShardSet::EvictRandom(bool volatile_only, int64_t now_ms, uint64_t max_keys) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  const uint32_t n = shard_count();
  uint64_t evicted = 0;
  while (evicted < max_keys) {
    // Start at a random shard and take the first one with a candidate.
    const uint32_t start = static_cast<uint32_t>(rng() % n);
    bool done = false;
    bool found = false;
    for (uint32_t i = 0; i < n && !done; i++) {
      const uint32_t shard = (start + i) % n;
      Shard& sh = *shards_[shard];
      std::lock_guard<std::mutex> lock(sh.mu);
      Keyspace& ks = *sh.keyspace;
      if (volatile_only ? ks.ExpiresCount() == 0 : ks.KeyCount() == 0) continue;
      std::string key;
      Status s = volatile_only ? ks.RandomVolatileKey(now_ms, rng(), &key)
                               : ks.RandomKey(now_ms, rng(), &key);
      if (s.IsNotFound()) continue;  // only expired keys there (now removed)
      if (!s.ok()) {
        done = true;
        break;
      }
      bool deleted = false;
      if (!ks.Delete(key, now_ms, &deleted).ok()) {
        done = true;
        break;
      }
      if (deleted) {
        evicted++;
        stats_.evicted_keys.fetch_add(1, std::memory_order_relaxed);
      }
      found = true;
      done = true;
    }
    if (!found) break;
  }
  return evicted;
}

// ---- Aggregates ----

uint64_t ShardSet::KeyCount() {
  uint64_t total = 0;
  for (auto& sh : shards_) {
    std::lock_guard<std::mutex> lock(sh->mu);
    total += sh->keyspace->KeyCount();
  }
  return total;
}

uint64_t ShardSet::ExpiresCount() const {
  uint64_t total = 0;
  for (const auto& sh : shards_) total += sh->keyspace->ExpiresCount();
  return total;
}

storage::EngineStats ShardSet::AggregateEngineStats() {
  storage::EngineStats sum;
  for (size_t i = 0; i < shards_.size(); i++) {
    std::lock_guard<std::mutex> lock(shards_[i]->mu);
    storage::EngineStats s = shards_[i]->keyspace->engine()->Stats();
    sum.keys += s.keys;
    sum.memory_bytes += s.memory_bytes;
    sum.disk_bytes += s.disk_bytes;
    sum.cache_hits += s.cache_hits;
    sum.cache_misses += s.cache_misses;
    sum.flushes += s.flushes;
    sum.compactions += s.compactions;
    sum.page_splits += s.page_splits;
    sum.user_bytes_written += s.user_bytes_written;
    sum.disk_bytes_written += s.disk_bytes_written;
    if (i == 0) sum.extra = std::move(s.extra);
  }
  return sum;
}

Status ShardSet::FlushAll() {
  Locked all = LockAll();
  for (uint32_t i = 0; i < shard_count(); i++) {
    RINGKV_RETURN_IF_ERROR(all.Shard(i).Clear());
  }
  return Status::OK();
}

}  // namespace ringkv::server
