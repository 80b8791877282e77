#include "consensus/progress/tracker.h"

namespace ringkv::consensus::progress {

consensus::ConfState ProgressTracker::ConfState() const {
  consensus::ConfState cs;
  cs.voters.assign(config.voters.incoming.begin(), config.voters.incoming.end());
  cs.voters_outgoing.assign(config.voters.outgoing.begin(), config.voters.outgoing.end());
  cs.learners.assign(config.learners.begin(), config.learners.end());
  cs.learners_next.assign(config.learners_next.begin(), config.learners_next.end());
  cs.auto_leave = config.auto_leave;
  return cs;
}

bool ProgressTracker::IsSingleton() const {
  return config.voters.incoming.size() == 1 && config.voters.outgoing.empty();
}

uint64_t ProgressTracker::Committed() const {
  return quorum::JointCommittedBy(config.voters, [this](NodeId id) -> uint64_t {
    auto it = progress.find(id);
    return it == progress.end() ? 0 : it->second.match;
  });
}

bool ProgressTracker::QuorumActive() const {
  std::map<NodeId, bool> active;
  for (const auto& [id, pr] : progress) {
    if (!pr.is_learner) active[id] = pr.recent_active;
  }
  return quorum::Vote(config.voters, active) == quorum::VoteResult::kWon;
}

std::vector<NodeId> ProgressTracker::VoterNodes() const {
  auto ids = config.voters.IDs();
  return {ids.begin(), ids.end()};
}

std::vector<NodeId> ProgressTracker::LearnerNodes() const {
  return {config.learners.begin(), config.learners.end()};
}

void ProgressTracker::RecordVote(NodeId id, bool granted) { votes_.emplace(id, granted); }

quorum::VoteResult ProgressTracker::TallyVotes(int* granted, int* rejected) const {
  *granted = 0;
  *rejected = 0;
  for (const auto& [id, pr] : progress) {
    if (pr.is_learner) continue;
    auto it = votes_.find(id);
    if (it == votes_.end()) continue;
    if (it->second) {
      ++*granted;
    } else {
      ++*rejected;
    }
  }
  return quorum::Vote(config.voters, votes_);
}

}  // namespace ringkv::consensus::progress
