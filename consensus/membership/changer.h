// Changer: validates and applies membership changes to a (TrackerConfig,
// ProgressMap) pair, producing the new pair without touching the input.
//
//   Simple:     a change of at most one voter, applied directly (dissertation
//               §4.1: any two majorities of configs that differ by one voter
//               overlap).
//   EnterJoint: C_old -> C_old,new; quorums need majorities of both halves
//               (§4.3). auto_leave says whether the leader proposes the
//               leave by itself once the joint config is applied.
//   LeaveJoint: C_old,new -> C_new.
//   Restore:    builds the config from a ConfState (snapshot or bootstrap).
//
// Pure: errors are returned as InvalidArgument, nothing is mutated on error.
#pragma once

#include <utility>
#include <vector>

#include "consensus/messages.h"
#include "consensus/progress/tracker.h"
#include "storage/base/status.h"

namespace ringkv::consensus::membership {

struct ConfigAndProgress {
  progress::TrackerConfig config;
  progress::ProgressMap progress;
};

class Changer {
 public:
  // `last_index` seeds next for new members.
  Changer(const progress::TrackerConfig& config, const progress::ProgressMap& progress,
          uint64_t last_index, int max_inflight)
      : base_{config, progress}, last_index_(last_index), max_inflight_(max_inflight) {}

  Result<ConfigAndProgress> EnterJoint(bool auto_leave,
                                       const std::vector<ConfChangeSingle>& ccs) const;
  Result<ConfigAndProgress> LeaveJoint() const;
  Result<ConfigAndProgress> Simple(const std::vector<ConfChangeSingle>& ccs) const;

  // Builds config+progress from scratch for `cs`.
  static Result<ConfigAndProgress> Restore(const ConfState& cs, uint64_t last_index,
                                           int max_inflight);

 private:
  Status Apply(ConfigAndProgress* cp, const std::vector<ConfChangeSingle>& ccs) const;
  void MakeVoter(ConfigAndProgress* cp, NodeId id) const;
  void MakeLearner(ConfigAndProgress* cp, NodeId id) const;
  void Remove(ConfigAndProgress* cp, NodeId id) const;
  void InitProgress(ConfigAndProgress* cp, NodeId id, bool learner) const;
  static Status CheckInvariants(const ConfigAndProgress& cp);

  ConfigAndProgress base_;
  uint64_t last_index_;
  int max_inflight_;
};

}  // namespace ringkv::consensus::membership
