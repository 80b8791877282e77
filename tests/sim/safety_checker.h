// SafetyChecker: Raft's safety properties (Raft paper Figure 3), checked from the
// outside while a simulation runs.
//   Election safety:       at most one leader per term (per group).
//   Log matching:          if two logs hold an entry with the same index and term, the
//                          logs are identical up to that index.
//   Leader completeness:   a leader's log holds every entry known to be committed.
//   State machine safety:  no two replicas apply different entries at one index, and
//                          snapshots taken at one index hold the same state.
// Every method returns false and fills *error on the first violation it sees.
// Owned by the simulation; not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "consensus/log_storage.h"

namespace ringkv::sim {

class SafetyChecker {
 public:
  using GroupId = uint64_t;
  using NodeId = uint64_t;

  // Records that `node` is leader of `group` in `term`. Returns true the first time
  // this (group, term) has a leader.
  bool ObserveLeader(GroupId group, uint64_t term, NodeId node, bool* is_new,
                     std::string* error);
  bool OnApply(GroupId group, NodeId node, const consensus::Entry& e, std::string* error);
  bool OnSnapshot(GroupId group, NodeId node, uint64_t index, const std::string& data,
                  std::string* error);
  // Pairwise log matching over the logs of the given nodes.
  bool CheckLogMatching(GroupId group,
                        const std::vector<std::pair<NodeId, const consensus::LogStorage*>>& logs,
                        std::string* error) const;
  // Leader completeness (Raft paper §5.4). A leader of term T whose commit index is c
  // shows that the entries of its log up to c were committed in a term <= T. Every
  // leader of a later term must hold those entries (once it has written an entry of its
  // own term, its log must reach the last of them). Called for every leader each tick;
  // sound because the commit term recorded is never below the true one.
  bool CheckLeaderCompleteness(GroupId group, NodeId node, uint64_t term, uint64_t commit,
                               const consensus::LogStorage& log, std::string* error);
  // Raft paper §5.4.2 (Figure 8): a leader only ever advances its commit index to an
  // entry of its own term; older entries become committed only indirectly. Checked
  // against the commit index the leader had when first seen leading in `term`.
  bool CheckLeaderCommitTerm(GroupId group, NodeId node, uint64_t term, uint64_t commit,
                             const consensus::LogStorage& log, std::string* error);
  // The highest index any replica of the group has applied.
  uint64_t MaxApplied(GroupId group) const;

 private:
  struct Applied {
    uint64_t term;
    std::string data;
    NodeId first_node;
  };
  std::map<std::pair<GroupId, uint64_t>, NodeId> leaders_;
  std::map<GroupId, std::map<uint64_t, Applied>> applied_;
  std::map<GroupId, std::map<uint64_t, std::pair<std::string, NodeId>>> snapshots_;
  struct Committed {
    uint64_t commit_term;  // lowest leader term seen with this index committed
    uint64_t entry_term;
  };
  std::map<GroupId, std::map<uint64_t, Committed>> committed_;
  // Per (group, leader term): the commit index already recorded.
  std::map<std::pair<GroupId, uint64_t>, uint64_t> recorded_upto_;
  // Per (group, term): the last commit index checked for the leader of that term.
  std::map<std::pair<GroupId, uint64_t>, uint64_t> leader_commit_seen_;
};

}  // namespace ringkv::sim
