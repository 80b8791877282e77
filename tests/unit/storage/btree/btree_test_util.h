// Helpers shared by the B+tree engine tests.
#pragma once

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "storage/btree/btree_engine_impl.h"
#include "storage/env/mem_env.h"
#include "tests/unit/testing/temp_dir.h"

namespace ringkv::storage::btree::testing {

inline EngineOptions SmallOptions(Env* env, const std::string& dir) {
  EngineOptions o;
  o.kind = EngineKind::kBtree;
  o.dir = dir;
  o.env = env;
  o.use_wal = true;
  o.sync_wal = false;
  o.page_bytes = 1024;               // small pages: deep trees and many splits quickly
  o.block_cache_bytes = 256 * 1024;  // small pool: frequent evictions and checkpoints
  return o;
}

inline std::unique_ptr<BtreeEngine> OpenOrDie(const EngineOptions& o) {
  auto r = BtreeEngine::Open(o);
  if (!r.ok()) {
    std::fprintf(stderr, "open failed: %s\n", r.status().ToString().c_str());
    std::abort();
  }
  return std::move(r.value());
}

// Tests on the real file system (PosixEnv, where pages.db is memory-mapped).
using ringkv::testing::TempDir;

// The value of one EngineStats::extra entry as a number (0 when absent).
inline uint64_t ExtraStat(const EngineStats& st, const std::string& name) {
  for (const auto& [k, v] : st.extra) {
    if (k == name) return std::stoull(v);
  }
  return 0;
}

// Key i as a fixed-width string so numeric and byte order agree.
inline std::string Key(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key%012llu", static_cast<unsigned long long>(i));
  return buf;
}

inline std::string RandomValue(std::mt19937_64* rng, size_t max_len) {
  size_t len = (*rng)() % (max_len + 1);
  std::string v(len, '\0');
  for (auto& c : v) c = static_cast<char>('a' + (*rng)() % 26);
  return v;
}

}  // namespace ringkv::storage::btree::testing
