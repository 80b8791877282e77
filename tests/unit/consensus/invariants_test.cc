// The invariants checker must report real violations, not only pass: feed it
// states that break Election Safety and State Machine Safety on purpose.
#include <catch2/catch.hpp>

#include "consensus/invariants.h"
#include "tests/unit/consensus/network.h"

namespace ringkv::consensus {
namespace {

// A single-voter group {id}: it elects itself and commits alone.
struct Solo {
  MemoryLogStorage storage;
  std::unique_ptr<RawNode> rn;
  explicit Solo(NodeId id, uint64_t term = 0) {
    storage.SetConfState(ConfState{{id}});
    if (term > 0) storage.SetHardState(HardState{term, kNoNode, 0});
    Config c;
    c.id = id;
    c.storage = &storage;
    auto r = RawNode::New(c);
    REQUIRE(r.ok());
    rn = std::move(*r);
  }
  void Drain() { test::DrainMessages(rn.get(), &storage); }
};

}  // namespace

TEST_CASE("invariants: a healthy group passes", "[consensus][invariants]") {
  test::Network net(3);
  REQUIRE(net.Elect(1));
  REQUIRE(net.Propose(1, "a").ok());
  net.Stabilize();
  ClusterInvariants inv;
  std::vector<const RawNode*> nodes{&net.raw(1), &net.raw(2), &net.raw(3)};
  CHECK(inv.Check(nodes).ok());
  CHECK(inv.committed_count() >= 5);  // 3 bootstrap entries, the no-op, "a"
  CHECK(CheckNodeInvariants(net.raw(2).raft()).ok());
}

TEST_CASE("invariants: two leaders in one term are reported", "[consensus][invariants]") {
  // Two nodes that each believe they alone form the group (a split-brain
  // misconfiguration) both lead term 1.
  Solo a(1), b(2);
  REQUIRE(a.rn->Campaign().ok());
  REQUIRE(b.rn->Campaign().ok());
  ClusterInvariants inv;
  Status s = inv.Check({a.rn.get(), b.rn.get()});
  CHECK(s.IsCorruption());
  CHECK(s.message().find("Election Safety") != std::string::npos);
}

TEST_CASE("invariants: different entries committed at one index are reported",
          "[consensus][invariants]") {
  Solo a(1), b(2, /*term=*/5);
  REQUIRE(a.rn->Campaign().ok());
  REQUIRE(a.rn->Propose("x").ok());
  a.Drain();
  ClusterInvariants inv;
  REQUIRE(inv.Check({a.rn.get()}).ok());
  // b leads a later term alone and commits something else at the same index.
  REQUIRE(b.rn->Campaign().ok());
  REQUIRE(b.rn->Propose("y").ok());
  b.Drain();
  Status s = inv.Check({b.rn.get()});
  CHECK(s.IsCorruption());
  CHECK(s.message().find("State Machine Safety") != std::string::npos);
}

}  // namespace ringkv::consensus
