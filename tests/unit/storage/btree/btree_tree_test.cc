// Tree structure: splits and merges keep every invariant (checked by the tree
// validator after each phase), overflow chains hold large values, and freed
// pages are reused. Small pages (1 KiB) make trees deep with few keys.
#include <algorithm>
#include <catch2/catch.hpp>
#include <numeric>

#include "storage/btree/node.h"
#include "tests/unit/storage/btree/btree_test_util.h"

namespace ringkv::storage::btree::testing {
namespace {

uint64_t Extra(const EngineStats& st, const std::string& name) {
  for (auto& [k, v] : st.extra) {
    if (k == name) return std::stoull(v);
  }
  return 0;
}

void RequireValid(BtreeEngine* e) {
  Status s = e->Validate();
  INFO(s.ToString());
  REQUIRE(s.ok());
}

TEST_CASE("splits and merges keep the invariants in every insert/delete order",
          "[storage][btree]") {
  MemEnv env;
  const int n = 6000;
  for (int order = 0; order < 3; order++) {
    INFO("order " << order);
    auto e = OpenOrDie(SmallOptions(&env, "/t" + std::to_string(order)));
    std::vector<int> ids(n);
    std::iota(ids.begin(), ids.end(), 0);
    std::mt19937_64 rng(order);
    if (order == 1) std::reverse(ids.begin(), ids.end());
    if (order == 2) std::shuffle(ids.begin(), ids.end(), rng);
    for (int i = 0; i < n; i++) {
      REQUIRE(e->Put(Key(ids[i]), std::string(10 + ids[i] % 90, 'v')).ok());
      if (i % 1500 == 0) RequireValid(e.get());
    }
    RequireValid(e.get());
    EngineStats st = e->Stats();
    REQUIRE(st.keys == static_cast<uint64_t>(n));
    REQUIRE(st.page_splits > 100);
    REQUIRE(Extra(st, "btree_height") >= 3);
    std::shuffle(ids.begin(), ids.end(), rng);
    for (int i = 0; i < n; i++) {
      REQUIRE(e->Delete(Key(ids[i])).ok());
      if (i % 1000 == 0) RequireValid(e.get());
    }
    RequireValid(e.get());
    st = e->Stats();
    REQUIRE(st.keys == 0);
    REQUIRE(Extra(st, "btree_merges") > 50);
    REQUIRE(Extra(st, "btree_redistributions") > 0);
    REQUIRE(Extra(st, "btree_height") == 1);
  }
}

TEST_CASE("keys up to the size limit; larger keys are rejected", "[storage][btree]") {
  MemEnv env;
  for (size_t pb : {size_t{1024}, size_t{4096}, size_t{16384}}) {
    auto o = SmallOptions(&env, "/k" + std::to_string(pb));
    o.page_bytes = pb;
    auto e = OpenOrDie(o);
    const size_t max_key = MaxKeyBytes(pb);
    std::mt19937_64 rng(pb);
    std::map<std::string, std::string> model;
    for (int i = 0; i < 400; i++) {
      std::string k = RandomValue(&rng, max_key);
      std::string v = RandomValue(&rng, i % 7 == 0 ? 3 * pb : 50);
      REQUIRE(e->Put(k, v).ok());
      model[k] = v;
    }
    RequireValid(e.get());
    for (auto& [k, v] : model) {
      std::string got;
      REQUIRE(e->Get(k, &got).ok());
      REQUIRE(got == v);
    }
    REQUIRE(e->Put(std::string(max_key + 1, 'k'), "v").IsInvalidArgument());
    std::string got;
    REQUIRE(e->Get(std::string(max_key + 1, 'k'), &got).IsNotFound());
    int i = 0;
    for (auto& [k, v] : model) {
      if (i++ % 2 == 0) REQUIRE(e->Delete(k).ok());
    }
    RequireValid(e.get());
  }
  // 16 KiB pages take keys of a few KiB.
  REQUIRE(MaxKeyBytes(16384) >= 4000);
}

TEST_CASE("overflow values: boundaries, multi-page chains, rewrite and free", "[storage][btree]") {
  MemEnv env;
  auto o = SmallOptions(&env, "/o");
  auto e = OpenOrDie(o);
  const size_t cap = o.page_bytes - kPageHeaderBytes;
  const size_t threshold = MaxCellBytes(o.page_bytes);
  std::vector<size_t> sizes = {
      threshold - 30, threshold - 20, threshold,    threshold + 1, cap - 1, cap,
      cap + 1,        2 * cap,        10 * cap + 3, 3 << 20};
  std::mt19937_64 rng(7);
  std::map<std::string, std::string> model;
  for (size_t i = 0; i < sizes.size(); i++) {
    std::string v(sizes[i], '\0');
    for (auto& c : v) c = static_cast<char>(rng());
    model[Key(i)] = v;
    REQUIRE(e->Put(Key(i), v).ok());
  }
  RequireValid(e.get());
  for (auto& [k, v] : model) {
    std::string got;
    REQUIRE(e->Get(k, &got).ok());
    REQUIRE(got == v);
  }
  // Rewrite big -> small -> big and delete; pages must all be accounted for.
  REQUIRE(e->Put(Key(9), "small").ok());
  RequireValid(e.get());
  REQUIRE(e->Put(Key(9), std::string(5 * cap, 'z')).ok());
  REQUIRE(e->Delete(Key(8)).ok());
  RequireValid(e.get());
  REQUIRE(e->Checkpoint().ok());
  e.reset();
  e = OpenOrDie(o);
  RequireValid(e.get());
  std::string got;
  REQUIRE(e->Get(Key(9), &got).ok());
  REQUIRE(got == std::string(5 * cap, 'z'));
  REQUIRE(e->Get(Key(8), &got).IsNotFound());
}

TEST_CASE("freed pages are reused instead of growing the file", "[storage][btree]") {
  MemEnv env;
  auto e = OpenOrDie(SmallOptions(&env, "/f"));
  auto fill = [&](int round) {
    for (int i = 0; i < 3000; i++) {
      REQUIRE(e->Put(Key(i), std::string(80, static_cast<char>('a' + round))).ok());
    }
    REQUIRE(e->Put("big", std::string(20000, 'b')).ok());
  };
  auto empty = [&]() {
    for (int i = 0; i < 3000; i++) REQUIRE(e->Delete(Key(i)).ok());
    REQUIRE(e->Delete("big").ok());
    REQUIRE(e->Checkpoint().ok());  // releases the pending frees
  };
  fill(0);
  empty();
  uint64_t pages_after_first = e->page_count();
  for (int round = 1; round < 5; round++) {
    fill(round);
    RequireValid(e.get());
    empty();
    RequireValid(e.get());
  }
  // A few pages of slack for the free-list chain itself.
  REQUIRE(e->page_count() <= pages_after_first + 8);
  REQUIRE(e->Stats().extra.size() > 0);
}

}  // namespace
}  // namespace ringkv::storage::btree::testing
