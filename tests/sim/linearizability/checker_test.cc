// Tests of the linearizability checker: hand-made histories whose verdict is known
// (stale reads, lost writes, CAS anomalies, possibly-applied operations), the search
// bound, and randomized histories generated from a real linearization.
#include "tests/sim/linearizability/checker.h"

#include <catch2/catch.hpp>
#include <random>

namespace ringkv::sim::lin {
namespace {

Verdict Check(const std::vector<Operation>& h) { return CheckKvHistory(h, CheckOptions{}).verdict; }

TEST_CASE("sequential history is linearizable", "[sim][lin]") {
  std::vector<Operation> h = {
      MakeGet(1, "x", std::nullopt, 0, 1),
      MakePut(1, "x", "a", 2, 3),
      MakeGet(1, "x", "a", 4, 5),
      MakeCas(1, "x", "a", "b", true, 6, 7),
      MakeCas(1, "x", "a", "c", false, 8, 9),
      MakeGet(1, "x", "b", 10, 11),
  };
  CHECK(Check(h) == Verdict::kLinearizable);
}

TEST_CASE("concurrent read may see either value", "[sim][lin]") {
  // put(a) overlaps both reads; the reads may return old or new, but not new then old
  // when the reads do not overlap each other.
  std::vector<Operation> h = {
      MakePut(1, "x", "a", 0, 1),
      MakePut(2, "x", "b", 2, 10),
      MakeGet(3, "x", "a", 3, 4),
      MakeGet(3, "x", "b", 5, 6),
  };
  CHECK(Check(h) == Verdict::kLinearizable);
  std::vector<Operation> bad = {
      MakePut(1, "x", "a", 0, 1),
      MakePut(2, "x", "b", 2, 10),
      MakeGet(3, "x", "b", 3, 4),
      MakeGet(3, "x", "a", 5, 6),  // new-then-old: the write cannot be undone
  };
  CHECK(Check(bad) == Verdict::kNotLinearizable);
}

TEST_CASE("stale read is caught", "[sim][lin]") {
  std::vector<Operation> h = {
      MakePut(1, "x", "1", 0, 1),
      MakePut(1, "x", "2", 2, 3),
      MakeGet(2, "x", "1", 4, 5),
  };
  CheckReport r = CheckKvHistory(h, CheckOptions{});
  CHECK(r.verdict == Verdict::kNotLinearizable);
  CHECK(r.key == "x");
  CHECK(r.detail.find("get(x) = 1") != std::string::npos);
}

TEST_CASE("lost write is caught", "[sim][lin]") {
  std::vector<Operation> h = {
      MakePut(1, "x", "1", 0, 1),
      MakeGet(2, "x", std::nullopt, 2, 3),
  };
  CHECK(Check(h) == Verdict::kNotLinearizable);
  // Lost after being seen once.
  std::vector<Operation> h2 = {
      MakePut(1, "x", "1", 0, 1),
      MakePut(1, "x", "2", 2, 3),
      MakeGet(2, "x", "2", 4, 5),
      MakeGet(2, "x", "1", 6, 7),
  };
  CHECK(Check(h2) == Verdict::kNotLinearizable);
}

TEST_CASE("read of a value never written is caught", "[sim][lin]") {
  std::vector<Operation> h = {
      MakePut(1, "x", "1", 0, 1),
      MakeGet(2, "x", "zzz", 0, 3),
  };
  CHECK(Check(h) == Verdict::kNotLinearizable);
}

TEST_CASE("CAS anomalies are caught", "[sim][lin]") {
  SECTION("two concurrent CAS from the same value both succeed") {
    std::vector<Operation> h = {
        MakePut(1, "x", "0", 0, 1),
        MakeCas(2, "x", "0", "a", true, 2, 5),
        MakeCas(3, "x", "0", "b", true, 3, 6),
    };
    CHECK(Check(h) == Verdict::kNotLinearizable);
  }
  SECTION("one of two concurrent CAS succeeds: fine") {
    std::vector<Operation> h = {
        MakePut(1, "x", "0", 0, 1),
        MakeCas(2, "x", "0", "a", true, 2, 5),
        MakeCas(3, "x", "0", "b", false, 3, 6),
        MakeGet(4, "x", "a", 7, 8),
    };
    CHECK(Check(h) == Verdict::kLinearizable);
  }
  SECTION("CAS fails although the value matched") {
    std::vector<Operation> h = {
        MakePut(1, "x", "1", 0, 1),
        MakeCas(2, "x", "1", "2", false, 2, 3),
    };
    CHECK(Check(h) == Verdict::kNotLinearizable);
  }
  SECTION("CAS succeeds against an absent key that was written") {
    std::vector<Operation> h = {
        MakePut(1, "x", "1", 0, 1),
        MakeCas(2, "x", std::nullopt, "2", true, 2, 3),
    };
    CHECK(Check(h) == Verdict::kNotLinearizable);
  }
  SECTION("successful CAS whose write is then not visible") {
    std::vector<Operation> h = {
        MakeCas(2, "x", std::nullopt, "2", true, 0, 1),
        MakeGet(3, "x", std::nullopt, 2, 3),
    };
    CHECK(Check(h) == Verdict::kNotLinearizable);
  }
}

TEST_CASE("operations that never returned may or may not have applied", "[sim][lin]") {
  SECTION("visible later") {
    std::vector<Operation> h = {
        Pending(MakePut(1, "x", "1", 0, 0)),
        MakeGet(2, "x", "1", 5, 6),
    };
    CHECK(Check(h) == Verdict::kLinearizable);
  }
  SECTION("never visible") {
    std::vector<Operation> h = {
        Pending(MakePut(1, "x", "1", 0, 0)),
        MakeGet(2, "x", std::nullopt, 5, 6),
        MakeGet(2, "x", std::nullopt, 7, 8),
    };
    CHECK(Check(h) == Verdict::kLinearizable);
  }
  SECTION("seen, then unseen: not possible") {
    std::vector<Operation> h = {
        Pending(MakePut(1, "x", "1", 0, 0)),
        MakeGet(2, "x", "1", 5, 6),
        MakeGet(2, "x", std::nullopt, 7, 8),
    };
    CHECK(Check(h) == Verdict::kNotLinearizable);
  }
  SECTION("cannot take effect before it was called") {
    std::vector<Operation> h = {
        MakeGet(2, "x", "1", 0, 1),
        Pending(MakePut(1, "x", "1", 5, 5)),
    };
    CHECK(Check(h) == Verdict::kNotLinearizable);
  }
  SECTION("pending CAS applies conditionally") {
    std::vector<Operation> h = {
        MakePut(1, "x", "a", 0, 1),
        Pending(MakeCas(2, "x", "a", "b", false, 2, 2)),
        MakeGet(3, "x", "b", 4, 5),
    };
    CHECK(Check(h) == Verdict::kLinearizable);
    std::vector<Operation> h2 = {
        MakePut(1, "x", "c", 0, 1),
        Pending(MakeCas(2, "x", "a", "b", false, 2, 2)),
        MakeGet(3, "x", "b", 4, 5),  // the CAS could not have matched
    };
    CHECK(Check(h2) == Verdict::kNotLinearizable);
  }
  SECTION("pending get is ignored") {
    std::vector<Operation> h = {
        MakePut(1, "x", "1", 0, 1),
        Pending(MakeGet(2, "x", std::nullopt, 2, 2)),
    };
    CHECK(Check(h) == Verdict::kLinearizable);
  }
}

TEST_CASE("keys are checked independently", "[sim][lin]") {
  std::vector<Operation> h = {
      MakePut(1, "x", "1", 0, 1),
      MakePut(1, "y", "1", 2, 3),
      MakeGet(2, "x", "1", 4, 5),
      MakeGet(2, "y", "1", 4, 5),
  };
  CheckReport r = CheckKvHistory(h, CheckOptions{});
  CHECK(r.verdict == Verdict::kLinearizable);
  CHECK(r.keys_checked == 2);
  h.push_back(MakeGet(3, "y", std::nullopt, 6, 7));
  r = CheckKvHistory(h, CheckOptions{});
  CHECK(r.verdict == Verdict::kNotLinearizable);
  CHECK(r.key == "y");
}

// Generates a linearizable history: `clients` clients issue random ops on one key; each
// op takes effect at a random point inside its [call, return] interval, and the results
// come from applying the ops to a register in effect order. Some ops never return.
std::vector<Operation> RandomHistory(std::mt19937_64* rng, int n_ops, int clients,
                                     double pending_ratio) {
  struct Planned {
    Operation op;
    int64_t effect;
  };
  std::vector<Planned> planned;
  std::vector<int64_t> client_free(clients, 0);
  std::uniform_int_distribution<int> pick_client(0, clients - 1);
  std::uniform_int_distribution<int> pick_kind(0, 2);
  std::uniform_int_distribution<int> pick_value(0, 4);
  std::uniform_int_distribution<int64_t> dur(1, 20);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int i = 0; i < n_ops; i++) {
    const int c = pick_client(*rng);
    Operation op;
    op.client_id = c;
    op.key = "k";
    op.kind = static_cast<OpKind>(pick_kind(*rng));
    op.value = "v" + std::to_string(pick_value(*rng));
    if (op.kind == OpKind::kCas) {
      int e = pick_value(*rng);
      if (e == 4) {
        op.expected = std::nullopt;
      } else {
        op.expected = "v" + std::to_string(e);
      }
    }
    op.call_time = client_free[c] + (*rng)() % 5;
    op.return_time = op.call_time + dur(*rng);
    op.returned = unit(*rng) >= pending_ratio;
    const int64_t effect = op.call_time + static_cast<int64_t>((*rng)() % (op.return_time - op.call_time + 1));
    client_free[c] = op.returned ? op.return_time + 1 : op.call_time + 1000;
    planned.push_back({op, effect});
  }
  std::vector<size_t> order(planned.size());
  for (size_t i = 0; i < order.size(); i++) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return planned[a].effect < planned[b].effect; });
  std::optional<std::string> reg;
  std::vector<Operation> out;
  for (size_t idx : order) {
    Operation& op = planned[idx].op;
    // A pending op applies or not, at random.
    const bool applies = op.returned || unit(*rng) < 0.5;
    switch (op.kind) {
      case OpKind::kPut:
        if (applies) reg = op.value;
        break;
      case OpKind::kGet:
        op.read_value = reg;
        break;
      case OpKind::kCas:
        op.cas_ok = reg == op.expected;
        if (op.cas_ok && applies) reg = op.value;
        break;
    }
    if (!op.returned) op = Pending(op);
  }
  for (auto& p : planned) out.push_back(p.op);
  return out;
}

TEST_CASE("random linearizable histories pass; corrupted ones fail", "[sim][lin]") {
  std::mt19937_64 rng(12345);
  int caught = 0;
  for (int round = 0; round < 200; round++) {
    std::vector<Operation> h = RandomHistory(&rng, 120, 5, 0.05);
    INFO("round " << round);
    REQUIRE(Check(h) == Verdict::kLinearizable);
    // Corrupt one returned get into a value nobody ever wrote: always illegal.
    for (Operation& op : h) {
      if (op.kind == OpKind::kGet && op.returned) {
        op.read_value = "never-written";
        REQUIRE(Check(h) == Verdict::kNotLinearizable);
        caught++;
        break;
      }
    }
  }
  CHECK(caught > 150);
}

TEST_CASE("search bound reports unknown instead of hanging", "[sim][lin]") {
  // Many fully concurrent puts and a read that fails only after trying every order.
  std::vector<Operation> h;
  for (int i = 0; i < 40; i++) h.push_back(MakePut(i, "x", "v" + std::to_string(i), 0, 100));
  for (int i = 0; i < 40; i++) h.push_back(MakeGet(100 + i, "x", "v" + std::to_string(i), 0, 100));
  h.push_back(MakeGet(999, "x", std::nullopt, 200, 201));
  CheckOptions small;
  small.max_steps_per_key = 10'000;
  CheckReport r = CheckKvHistory(h, small);
  CHECK(r.verdict == Verdict::kUnknown);
  CHECK(r.steps <= small.max_steps_per_key + 1);
}

}  // namespace
}  // namespace ringkv::sim::lin
