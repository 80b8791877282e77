#include "consensus/membership/changer.h"

#include <algorithm>

namespace ringkv::consensus::membership {

using progress::Progress;

namespace {
bool Joint(const progress::TrackerConfig& c) { return !c.voters.outgoing.empty(); }
}  // namespace

Result<ConfigAndProgress> Changer::EnterJoint(bool auto_leave,
                                              const std::vector<ConfChangeSingle>& ccs) const {
  ConfigAndProgress cp = base_;
  if (Joint(cp.config)) return Status::InvalidArgument("config is already joint");
  if (cp.config.voters.incoming.empty()) {
    return Status::InvalidArgument("can't make a zero-voter config joint");
  }
  cp.config.voters.outgoing = cp.config.voters.incoming;
  RINGKV_RETURN_IF_ERROR(Apply(&cp, ccs));
  cp.config.auto_leave = auto_leave;
  RINGKV_RETURN_IF_ERROR(CheckInvariants(cp));
  return cp;
}

Result<ConfigAndProgress> Changer::LeaveJoint() const {
  ConfigAndProgress cp = base_;
  if (!Joint(cp.config)) return Status::InvalidArgument("can't leave a non-joint config");
  for (NodeId id : cp.config.learners_next) {
    cp.config.learners.insert(id);
    cp.progress.at(id).is_learner = true;
  }
  cp.config.learners_next.clear();
  for (NodeId id : cp.config.voters.outgoing) {
    if (!cp.config.voters.incoming.count(id) && !cp.config.learners.count(id)) {
      cp.progress.erase(id);
    }
  }
  cp.config.voters.outgoing.clear();
  cp.config.auto_leave = false;
  RINGKV_RETURN_IF_ERROR(CheckInvariants(cp));
  return cp;
}

Result<ConfigAndProgress> Changer::Simple(const std::vector<ConfChangeSingle>& ccs) const {
  ConfigAndProgress cp = base_;
  if (Joint(cp.config)) {
    return Status::InvalidArgument("can't apply simple config change in joint config");
  }
  RINGKV_RETURN_IF_ERROR(Apply(&cp, ccs));
  // Symmetric difference of the voter sets must be at most one node.
  const auto& a = base_.config.voters.incoming;
  const auto& b = cp.config.voters.incoming;
  size_t diff = 0;
  for (NodeId id : a) diff += b.count(id) ? 0 : 1;
  for (NodeId id : b) diff += a.count(id) ? 0 : 1;
  if (diff > 1) {
    return Status::InvalidArgument("more than one voter changed without entering joint config");
  }
  RINGKV_RETURN_IF_ERROR(CheckInvariants(cp));
  return cp;
}

Result<ConfigAndProgress> Changer::Restore(const ConfState& cs, uint64_t last_index,
                                           int max_inflight) {
  Changer ch({}, {}, last_index, max_inflight);
  ConfigAndProgress cp;
  for (NodeId id : cs.voters_outgoing) ch.MakeVoter(&cp, id);
  if (!cs.voters_outgoing.empty()) {
    cp.config.voters.outgoing = cp.config.voters.incoming;
    cp.config.voters.incoming.clear();
  }
  for (NodeId id : cs.voters) ch.MakeVoter(&cp, id);
  for (NodeId id : cs.learners) ch.MakeLearner(&cp, id);
  for (NodeId id : cs.learners_next) ch.MakeLearner(&cp, id);
  cp.config.auto_leave = cs.auto_leave && !cs.voters_outgoing.empty();
  RINGKV_RETURN_IF_ERROR(CheckInvariants(cp));
  return cp;
}

Status Changer::Apply(ConfigAndProgress* cp, const std::vector<ConfChangeSingle>& ccs) const {
  for (const auto& cc : ccs) {
    if (cc.node_id == kNoNode) continue;  // etcd treats id 0 as a no-op
    switch (cc.type) {
      case ConfChangeType::kAddNode: MakeVoter(cp, cc.node_id); break;
      case ConfChangeType::kAddLearner: MakeLearner(cp, cc.node_id); break;
      case ConfChangeType::kRemoveNode: Remove(cp, cc.node_id); break;
    }
  }
  if (cp->config.voters.incoming.empty()) return Status::InvalidArgument("removed all voters");
  return Status::OK();
}

void Changer::InitProgress(ConfigAndProgress* cp, NodeId id, bool learner) const {
  Progress pr(max_inflight_);
  // Start probing at our last index; rejections walk it back (§5.3).
  pr.next = std::max<uint64_t>(last_index_, 1);
  pr.is_learner = learner;
  // A new member counts as active so CheckQuorum doesn't fire right away.
  pr.recent_active = true;
  if (learner) {
    cp->config.learners.insert(id);
  } else {
    cp->config.voters.incoming.insert(id);
  }
  cp->progress.insert_or_assign(id, pr);
}

void Changer::MakeVoter(ConfigAndProgress* cp, NodeId id) const {
  auto it = cp->progress.find(id);
  if (it == cp->progress.end()) {
    InitProgress(cp, id, false);
    return;
  }
  it->second.is_learner = false;
  cp->config.learners.erase(id);
  cp->config.learners_next.erase(id);
  cp->config.voters.incoming.insert(id);
}

void Changer::MakeLearner(ConfigAndProgress* cp, NodeId id) const {
  auto it = cp->progress.find(id);
  if (it == cp->progress.end()) {
    InitProgress(cp, id, true);
    return;
  }
  if (it->second.is_learner) return;
  Progress pr = it->second;
  Remove(cp, id);
  cp->progress.insert_or_assign(id, pr);
  // A voter of the outgoing config stays a voter until the joint config is
  // left, so it is staged in learners_next instead.
  if (cp->config.voters.outgoing.count(id)) {
    cp->config.learners_next.insert(id);
  } else {
    cp->progress.at(id).is_learner = true;
    cp->config.learners.insert(id);
  }
}

void Changer::Remove(ConfigAndProgress* cp, NodeId id) const {
  if (!cp->progress.count(id)) return;
  cp->config.voters.incoming.erase(id);
  cp->config.learners.erase(id);
  cp->config.learners_next.erase(id);
  // The outgoing config still needs its progress.
  if (!cp->config.voters.outgoing.count(id)) cp->progress.erase(id);
}

Status Changer::CheckInvariants(const ConfigAndProgress& cp) {
  const auto& c = cp.config;
  for (NodeId id : c.voters.IDs()) {
    if (!cp.progress.count(id)) return Status::InvalidArgument("no progress for voter");
  }
  for (NodeId id : c.learners) {
    auto it = cp.progress.find(id);
    if (it == cp.progress.end()) return Status::InvalidArgument("no progress for learner");
    if (!it->second.is_learner) return Status::InvalidArgument("learner not marked learner");
    if (c.voters.outgoing.count(id)) return Status::InvalidArgument("learner in outgoing voters");
    if (c.voters.incoming.count(id)) return Status::InvalidArgument("learner in incoming voters");
  }
  for (NodeId id : c.learners_next) {
    auto it = cp.progress.find(id);
    if (it == cp.progress.end()) return Status::InvalidArgument("no progress for learner_next");
    if (it->second.is_learner) return Status::InvalidArgument("learner_next marked learner");
    if (!c.voters.outgoing.count(id)) return Status::InvalidArgument("learner_next not outgoing");
  }
  for (const auto& [id, pr] : cp.progress) {
    if (!c.voters.Contains(id) && !c.learners.count(id)) {
      return Status::InvalidArgument("progress for non-member");
    }
  }
  if (c.voters.outgoing.empty()) {
    if (!c.learners_next.empty()) return Status::InvalidArgument("learners_next outside joint");
    if (c.auto_leave) return Status::InvalidArgument("auto_leave outside joint");
  }
  return Status::OK();
}

}  // namespace ringkv::consensus::membership
