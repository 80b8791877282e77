// CachedEngine over real lsm and btree engines on MemEnv: exact coherence with a
// std::map model under random put/delete/batch/clear/restore, hit/miss counting,
// the byte bound, and a failed inner write (FaultInjectionEnv) leaving no stale
// cached value.
#include "storage/cache/cached_engine.h"

#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "storage/engine.h"
#include "storage/env/fault_injection_env.h"
#include "storage/env/mem_env.h"

namespace ringkv::storage {
namespace {

const char* KindName(EngineKind k) { return k == EngineKind::kLsm ? "lsm" : "btree"; }

EngineKind KindParam() { return GENERATE(EngineKind::kLsm, EngineKind::kBtree); }

// Opens kind on env through OpenEngine with a cache, so the factory path is tested too.
std::unique_ptr<Engine> OpenCached(EngineKind kind, Env* env, size_t cache_bytes,
                                   bool wal = false) {
  EngineOptions o;
  o.kind = kind;
  o.dir = "/db";
  o.env = env;
  o.use_wal = wal;
  o.write_buffer_bytes = 32 << 10;  // lsm: flushes and compactions during the test
  o.block_cache_bytes = 128 << 10;
  o.cache_bytes = cache_bytes;
  auto r = OpenEngine(o);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return std::move(r).value();
}

CachedEngine* AsCached(Engine* e) {
  auto* c = dynamic_cast<CachedEngine*>(e);
  REQUIRE(c != nullptr);
  return c;
}

// An Iterator over a std::map, the source for Restore.
class MapIterator final : public Iterator {
 public:
  explicit MapIterator(const std::map<std::string, std::string>* m) : m_(m), it_(m->end()) {}
  bool Valid() const override { return it_ != m_->end(); }
  void SeekToFirst() override { it_ = m_->begin(); }
  void Seek(std::string_view target) override { it_ = m_->lower_bound(std::string(target)); }
  void Next() override { ++it_; }
  std::string_view key() const override { return it_->first; }
  std::string_view value() const override { return it_->second; }
  Status status() const override { return Status::OK(); }

 private:
  const std::map<std::string, std::string>* m_;
  std::map<std::string, std::string>::const_iterator it_;
};

std::string Key(uint32_t i) { return "k" + std::to_string(i); }

TEST_CASE("cached engine: factory wraps lsm and btree only when asked", "[cache]") {
  MemEnv env;
  EngineKind kind = KindParam();
  auto cached = OpenCached(kind, &env, 1 << 20);
  CHECK(cached->name() == std::string(KindName(kind)) + "+cache");
  cached.reset();
  auto plain = OpenCached(kind, &env, 0);
  CHECK(dynamic_cast<CachedEngine*>(plain.get()) == nullptr);
  CHECK(plain->name() == KindName(kind));
}

TEST_CASE("cached engine: hits and misses are counted exactly", "[cache]") {
  MemEnv env;
  EngineKind kind = KindParam();
  INFO(KindName(kind));
  auto e = OpenCached(kind, &env, 1 << 20);
  CachedEngine* c = AsCached(e.get());
  std::string v;
  REQUIRE(e->Put("a", "1").ok());
  REQUIRE(e->Get("a", &v).ok());      // miss, now cached
  REQUIRE(e->Get("a", &v).ok());      // hit
  CHECK(v == "1");
  CHECK(e->Get("gone", &v).IsNotFound());  // miss, cached as absent
  CHECK(e->Get("gone", &v).IsNotFound());  // hit
  CHECK(c->hits() == 2);
  CHECK(c->misses() == 2);
  REQUIRE(e->Put("a", "2").ok());     // cached key: updated in place, no miss
  REQUIRE(e->Get("a", &v).ok());
  CHECK(v == "2");
  REQUIRE(e->Put("gone", "here").ok());
  REQUIRE(e->Get("gone", &v).ok());
  CHECK(v == "here");
  REQUIRE(e->Delete("a").ok());
  CHECK(e->Get("a", &v).IsNotFound());
  CHECK(c->hits() == 5);
  CHECK(c->misses() == 2);
  EngineStats st = e->Stats();
  bool found_hits = false;
  for (const auto& [name, value] : st.extra) {
    if (name == "hot_cache_hits") {
      found_hits = true;
      CHECK(value == "5");
    }
  }
  CHECK(found_hits);
  CHECK(st.memory_bytes >= c->cache().bytes());
}

TEST_CASE("cached engine: coherent with a model under random operations", "[cache]") {
  MemEnv env;
  EngineKind kind = KindParam();
  const uint32_t seed = GENERATE(1u, 2u);
  INFO(KindName(kind) << " seed " << seed);
  const size_t cache_bytes = 8 << 10;  // ~60 entries of 500 keys: evictions happen
  auto e = OpenCached(kind, &env, cache_bytes);
  CachedEngine* c = AsCached(e.get());
  std::map<std::string, std::string> model;
  std::mt19937 rng(seed);
  std::string v;
  // Skewed reads so that a hot set exists and hits happen.
  auto pick = [&]() -> std::string {
    return rng() % 4 == 0 ? Key(rng() % 500) : Key(rng() % 30);
  };
  for (int step = 0; step < 6000; step++) {
    const uint32_t op = rng() % 100;
    if (op < 45) {
      std::string k = pick();
      Status s = e->Get(k, &v);
      auto m = model.find(k);
      if (m == model.end()) {
        REQUIRE(s.IsNotFound());
      } else {
        REQUIRE(s.ok());
        REQUIRE(v == m->second);
      }
    } else if (op < 70) {
      std::string k = pick();
      std::string val = "v" + std::to_string(step) + std::string(rng() % 40, 'x');
      REQUIRE(e->Put(k, val).ok());
      model[k] = val;
    } else if (op < 85) {
      std::string k = pick();
      REQUIRE(e->Delete(k).ok());
      model.erase(k);
    } else if (op < 98) {
      WriteBatch b;
      std::map<std::string, std::string> after = model;
      const int n = 1 + static_cast<int>(rng() % 8);
      for (int i = 0; i < n; i++) {
        std::string k = pick();  // repeats within a batch happen: the last op must win
        if (rng() % 3 == 0) {
          b.Delete(k);
          after.erase(k);
        } else {
          std::string val = "b" + std::to_string(step) + "." + std::to_string(i);
          b.Put(k, val);
          after[k] = val;
        }
      }
      REQUIRE(e->Write(b).ok());
      model = std::move(after);
    } else if (op < 99) {
      REQUIRE(e->Clear().ok());
      model.clear();
    } else {
      std::map<std::string, std::string> src;
      for (int i = 0; i < 20; i++) src[Key(rng() % 500)] = "r" + std::to_string(step);
      MapIterator it(&src);
      REQUIRE(e->Restore(&it, 1000 + step).ok());
      model = src;
    }
    REQUIRE(c->cache().bytes() <= cache_bytes);
  }
  // Final full check, through Get (cache) and through the inner engine.
  for (uint32_t i = 0; i < 500; i++) {
    std::string k = Key(i);
    auto m = model.find(k);
    std::string inner_v;
    Status s = e->Get(k, &v);
    Status si = c->inner()->Get(k, &inner_v);
    if (m == model.end()) {
      REQUIRE(s.IsNotFound());
      REQUIRE(si.IsNotFound());
    } else {
      REQUIRE(s.ok());
      REQUIRE(si.ok());
      REQUIRE(v == m->second);
      REQUIRE(inner_v == m->second);
    }
  }
  CHECK(c->hits() > 0);
  CHECK(c->misses() > 0);
  CHECK(c->cache().evictions() > 0);
}

TEST_CASE("cached engine: a failed inner write leaves no stale cached value", "[cache]") {
  MemEnv mem;
  FaultInjectionEnv env(&mem);
  EngineKind kind = KindParam();
  INFO(KindName(kind));
  // With the WAL on, every mutation writes a file, so failing writes fails it.
  auto e = OpenCached(kind, &env, 1 << 20, /*wal=*/true);
  CachedEngine* c = AsCached(e.get());
  std::string v;
  REQUIRE(e->Put("k", "old").ok());
  REQUIRE(e->Put("d", "old").ok());
  REQUIRE(e->Put("b", "old").ok());
  for (const char* k : {"k", "d", "b"}) {
    REQUIRE(e->Get(k, &v).ok());
    REQUIRE(c->cache().Contains(k));
  }
  env.set_fail_writes(true);
  env.set_fail_syncs(true);
  Status put = e->Put("k", "new");
  Status del = e->Delete("d");
  WriteBatch b;
  b.Put("b", "new");
  b.Delete("k");
  Status write = e->Write(b);
  CHECK_FALSE(put.ok());
  CHECK_FALSE(del.ok());
  CHECK_FALSE(write.ok());
  // Failed writes dropped the keys from the cache; whatever the inner engine
  // now holds (the write may or may not have reached its memory), Get agrees.
  for (const char* k : {"k", "d", "b"}) {
    INFO(k);
    CHECK_FALSE(c->cache().Contains(k));
    std::string via_cache, via_inner;
    Status s1 = e->Get(k, &via_cache);
    Status s2 = c->inner()->Get(k, &via_inner);
    REQUIRE(s1.code() == s2.code());
    if (s1.ok()) CHECK(via_cache == via_inner);
    // And again, now served from the cache.
    Status s3 = e->Get(k, &via_cache);
    REQUIRE(s3.code() == s2.code());
    if (s3.ok()) CHECK(via_cache == via_inner);
  }
  env.set_fail_writes(false);
  env.set_fail_syncs(false);
}

}  // namespace
}  // namespace ringkv::storage
