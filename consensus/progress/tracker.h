// ProgressTracker: the current membership (possibly joint) plus the leader's
// Progress for every member and the votes collected in an election.
//
// Owned by one Raft instance. Invariants: every id in the config has exactly
// one Progress; learners are disjoint from both voter halves; learners_next
// is a subset of voters.outgoing.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "consensus/messages.h"
#include "consensus/progress/progress.h"
#include "consensus/quorum/quorum.h"

namespace ringkv::consensus::progress {

struct TrackerConfig {
  quorum::JointConfig voters;
  // Auto-leave the joint config once it is committed and applied.
  bool auto_leave = false;
  std::set<NodeId> learners;
  // Voters of the outgoing config that become learners on leaving the joint config.
  std::set<NodeId> learners_next;

  bool operator==(const TrackerConfig&) const = default;
};

using ProgressMap = std::map<NodeId, Progress>;

class ProgressTracker {
 public:
  explicit ProgressTracker(int max_inflight) : max_inflight_(max_inflight) {}

  TrackerConfig config;
  ProgressMap progress;

  consensus::ConfState ConfState() const;
  // True if the config has exactly one voter (which commits alone).
  bool IsSingleton() const;
  // Largest index acknowledged by a (joint) quorum of voters.
  uint64_t Committed() const;
  // Whether a quorum of voters was recently active (CheckQuorum).
  bool QuorumActive() const;
  std::vector<NodeId> VoterNodes() const;
  std::vector<NodeId> LearnerNodes() const;

  void ResetVotes() { votes_.clear(); }
  // Records id's vote (the first one counts).
  void RecordVote(NodeId id, bool granted);
  // Counts votes; returns the result for the voter config.
  quorum::VoteResult TallyVotes(int* granted, int* rejected) const;

  int max_inflight() const { return max_inflight_; }

 private:
  int max_inflight_;
  std::map<NodeId, bool> votes_;
};

}  // namespace ringkv::consensus::progress
