// Executable specification of Raft's safety properties (the idea of
// LogCabin's RaftConsensusInvariants), callable from tests and the simulator.
//
//   CheckNodeInvariants:  local invariants of one node (commit/apply order,
//                         leader bookkeeping, progress match < next, ...).
//   ClusterInvariants:    properties across nodes and across time (Figure 3
//                         of the paper): Election Safety (one leader per
//                         term), Log Matching, Leader Completeness, State
//                         Machine Safety (no two different entries ever
//                         committed at one index). It remembers leaders and
//                         committed entries between calls, so call Check
//                         after every step or every delivery round.
//
// Neither mutates the nodes. Violations come back as Status::Corruption with
// a description; a checker never aborts the process by itself.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "consensus/raft.h"
#include "consensus/raft_core.h"

namespace ringkv::consensus {

Status CheckNodeInvariants(const Raft& r);

class ClusterInvariants {
 public:
  // Checks the given (live) nodes; crashed nodes may be left out.
  Status Check(const std::vector<const RawNode*>& nodes);
  // Number of distinct committed indexes recorded so far.
  size_t committed_count() const { return committed_.size(); }

 private:
  struct EntryId {
    uint64_t term;
    uint64_t data_hash;
  };
  Status RecordCommitted(const Raft& r);
  Status CheckLeaderCompleteness(const Raft& leader) const;
  static Status CheckLogMatching(const Raft& a, const Raft& b);

  std::map<uint64_t, NodeId> leader_of_term_;
  std::map<uint64_t, EntryId> committed_;  // index -> what was committed there
  // Per node: highest index already recorded, to keep each call incremental.
  std::map<NodeId, uint64_t> recorded_upto_;
};

}  // namespace ringkv::consensus
