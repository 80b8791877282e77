// A node restarted with lease-based reads refuses votes for one election timeout,
// as if it had acknowledged a lease heartbeat just before it stopped. Without this
// a follower that acked the leader's lease, crashed and restarted at once could
// vote a new leader in while the old one still served lease reads (the hole noted
// in tests/sim/README.md).
#include <catch2/catch.hpp>

#include "consensus/raft_core.h"
#include "tests/unit/consensus/network.h"

namespace ringkv::consensus {
namespace {

constexpr int kElection = 10;

std::unique_ptr<RawNode> Start(MemoryLogStorage* storage, ReadOnlyOption opt) {
  Config c;
  c.id = 2;
  c.election_tick = kElection;
  c.heartbeat_tick = 1;
  c.check_quorum = true;
  c.read_only_option = opt;
  c.storage = storage;
  auto r = RawNode::New(c);
  REQUIRE(r.ok());
  return std::move(*r);
}

Message Vote(uint64_t term, bool transfer = false) {
  Message m;
  m.type = MessageType::kVote;
  m.from = 3;
  m.to = 2;
  m.term = term;
  m.index = 100;  // a log more up to date than ours
  m.log_term = term;
  if (transfer) m.context = kCampaignTransfer;
  return m;
}

// The node's answers to votes, from its Readies (persisted after each).
std::vector<Message> VoteResponses(RawNode* rn, MemoryLogStorage* storage) {
  std::vector<Message> out;
  for (const Message& m : test::DrainMessages(rn, storage, nullptr)) {
    if (m.type == MessageType::kVoteResp) out.push_back(m);
  }
  return out;
}

void Restarted(MemoryLogStorage* storage) {
  storage->SetConfState(ConfState{{1, 2, 3}});
  storage->SetHardState(HardState{5, 1, 0});  // term 5, voted for node 1
}

}  // namespace

TEST_CASE("restart lease: a restarted node refuses votes for one election timeout",
          "[consensus][lease]") {
  MemoryLogStorage storage;
  Restarted(&storage);
  auto rn = Start(&storage, ReadOnlyOption::kLeaseBased);
  REQUIRE(rn->Step(Vote(6)).ok());
  CHECK(VoteResponses(rn.get(), &storage).empty());
  CHECK(rn->raft().term() == 5);  // not even the term moves (§4.2.3)
  for (int i = 0; i < kElection - 2; ++i) rn->Tick();
  REQUIRE(rn->Step(Vote(6)).ok());
  CHECK(VoteResponses(rn.get(), &storage).empty());
  CHECK(rn->raft().term() == 5);

  // After a full election timeout the promise has expired: the vote is granted
  // (or, if the node campaigned itself meanwhile, a higher term still wins it).
  for (int i = 0; i < 2; ++i) rn->Tick();
  REQUIRE(rn->Step(Vote(20)).ok());
  auto resp = VoteResponses(rn.get(), &storage);
  REQUIRE(resp.size() == 1);
  CHECK_FALSE(resp[0].reject);
  CHECK(rn->raft().term() == 20);
}

TEST_CASE("restart lease: leadership transfer votes are not held back", "[consensus][lease]") {
  MemoryLogStorage storage;
  Restarted(&storage);
  auto rn = Start(&storage, ReadOnlyOption::kLeaseBased);
  REQUIRE(rn->Step(Vote(6, /*transfer=*/true)).ok());
  auto resp = VoteResponses(rn.get(), &storage);
  REQUIRE(resp.size() == 1);
  CHECK_FALSE(resp[0].reject);
}

TEST_CASE("restart lease: without lease reads a restarted node votes at once",
          "[consensus][lease]") {
  MemoryLogStorage storage;
  Restarted(&storage);
  auto rn = Start(&storage, ReadOnlyOption::kSafe);
  REQUIRE(rn->Step(Vote(6)).ok());
  auto resp = VoteResponses(rn.get(), &storage);
  REQUIRE(resp.size() == 1);
  CHECK_FALSE(resp[0].reject);
}

TEST_CASE("restart lease: a restarted follower cannot help depose a leader holding a lease",
          "[consensus][lease]") {
  test::Network net(3, [](Config* c) {
    c->check_quorum = true;
    c->read_only_option = ReadOnlyOption::kLeaseBased;
  });
  REQUIRE(net.Elect(1));
  REQUIRE(net.Propose(1, "a").ok());
  net.Stabilize();
  // Node 2 acknowledged node 1's heartbeats; it crashes and comes back at once, and
  // node 3, cut off from node 1, campaigns right away.
  net.Restart(2);
  net.Cut(1, 3);
  net.Campaign(3);
  net.Stabilize();
  CHECK(net.Leader() == 1);
  CHECK(net.raw(1).raft().role() == Role::kLeader);
  CHECK(net.raw(3).raft().role() != Role::kLeader);
  CHECK(net.Check().ok());
}

}  // namespace ringkv::consensus
