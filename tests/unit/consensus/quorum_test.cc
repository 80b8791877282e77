// Table-driven tests of the quorum arithmetic (majority and joint configs).
#include <catch2/catch.hpp>

#include "consensus/quorum/quorum.h"

#include <random>

namespace ringkv::consensus::quorum {

TEST_CASE("quorum: committed index of a majority config", "[consensus][quorum]") {
  struct Case {
    MajorityConfig cfg;
    std::map<NodeId, uint64_t> acked;
    uint64_t want;
  };
  std::vector<Case> cases = {
      {{1}, {{1, 5}}, 5},
      {{1}, {}, 0},
      {{1, 2}, {{1, 5}, {2, 3}}, 3},
      {{1, 2, 3}, {{1, 5}, {2, 3}, {3, 1}}, 3},
      {{1, 2, 3}, {{1, 5}}, 0},
      {{1, 2, 3}, {{1, 5}, {2, 5}}, 5},
      {{1, 2, 3, 4}, {{1, 9}, {2, 8}, {3, 7}, {4, 6}}, 7},
      {{1, 2, 3, 4, 5}, {{1, 9}, {2, 8}, {3, 7}, {4, 6}, {5, 1}}, 7},
      // Acks from non-members do not count.
      {{1, 2, 3}, {{1, 5}, {7, 9}, {8, 9}}, 0},
  };
  for (const auto& c : cases) {
    CHECK(CommittedIndex(c.cfg, c.acked) == c.want);
  }
  CHECK(CommittedIndex(MajorityConfig{}, {}) == UINT64_MAX);
}

TEST_CASE("quorum: vote result of a majority config", "[consensus][quorum]") {
  MajorityConfig c3{1, 2, 3};
  CHECK(Vote(c3, {}) == VoteResult::kPending);
  CHECK(Vote(c3, {{1, true}}) == VoteResult::kPending);
  CHECK(Vote(c3, {{1, true}, {2, true}}) == VoteResult::kWon);
  CHECK(Vote(c3, {{1, true}, {2, false}}) == VoteResult::kPending);
  CHECK(Vote(c3, {{1, false}, {2, false}}) == VoteResult::kLost);
  CHECK(Vote(MajorityConfig{1, 2, 3, 4}, {{1, true}, {2, true}}) == VoteResult::kPending);
  CHECK(Vote(MajorityConfig{1, 2, 3, 4}, {{1, true}, {2, true}, {3, false}, {4, false}}) ==
        VoteResult::kLost);
  CHECK(Vote(MajorityConfig{}, {}) == VoteResult::kWon);
}

TEST_CASE("quorum: joint config needs both majorities", "[consensus][quorum]") {
  JointConfig j{{1, 2, 3}, {3, 4, 5}};
  // Committed is the min of both halves.
  CHECK(CommittedIndex(j, {{1, 9}, {2, 9}, {3, 4}, {4, 4}, {5, 2}}) == 4);
  CHECK(CommittedIndex(j, {{1, 9}, {2, 9}, {4, 9}, {5, 9}}) == 9);
  CHECK(CommittedIndex(j, {{1, 9}, {2, 9}}) == 0);
  // Votes.
  CHECK(Vote(j, {{1, true}, {2, true}}) == VoteResult::kPending);
  CHECK(Vote(j, {{1, true}, {2, true}, {4, true}, {5, true}}) == VoteResult::kWon);
  CHECK(Vote(j, {{1, true}, {2, true}, {4, false}, {5, false}}) == VoteResult::kLost);
  CHECK(Vote(j, {{3, true}, {1, true}, {4, true}}) == VoteResult::kWon);
  // With an empty outgoing half a joint config behaves like the incoming one.
  JointConfig simple{{1, 2, 3}, {}};
  CHECK(CommittedIndex(simple, {{1, 5}, {2, 3}, {3, 1}}) == 3);
  CHECK(Vote(simple, {{1, true}, {3, true}}) == VoteResult::kWon);
}

TEST_CASE("quorum: the map-free forms agree with CommittedIndex and Vote", "[consensus][quorum]") {
  // Random joint configs of up to 12 voters a half (past the small-buffer size
  // of MajorityCommittedBy), random acknowledgements and grants.
  std::mt19937_64 rng(7);
  for (int round = 0; round < 2000; ++round) {
    JointConfig c;
    const size_t in = rng() % 13, out = rng() % 13;
    while (c.incoming.size() < in) c.incoming.insert(1 + rng() % 20);
    while (c.outgoing.size() < out) c.outgoing.insert(1 + rng() % 20);
    std::map<NodeId, uint64_t> acked;
    std::map<NodeId, bool> votes;
    for (NodeId id = 1; id <= 20; ++id) {
      if (rng() % 4 != 0) acked[id] = rng() % 50;
      if (rng() % 4 != 0) votes[id] = rng() % 2 == 0;
    }
    const uint64_t committed = JointCommittedBy(c, [&](NodeId id) -> uint64_t {
      auto it = acked.find(id);
      return it == acked.end() ? 0 : it->second;
    });
    CHECK(committed == CommittedIndex(c, acked));
    const bool granted = JointGrants(c, [&](NodeId id) {
      auto it = votes.find(id);
      return it != votes.end() && it->second;
    });
    CHECK(granted == (Vote(c, votes) == VoteResult::kWon));
  }
}

}  // namespace ringkv::consensus::quorum
