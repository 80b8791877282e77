#include "consensus/invariants.h"

#include <algorithm>
#include <functional>
#include <string>

namespace ringkv::consensus {

namespace {

Status Violation(const Raft& r, const std::string& what) {
  return Status::Corruption("node " + std::to_string(r.id()) + " term " +
                            std::to_string(r.term()) + ": " + what);
}

uint64_t HashData(const Entry& e) {
  return std::hash<std::string>{}(e.data) * 31 + static_cast<uint64_t>(e.type);
}

// Bound on how many entries a log-matching comparison walks per pair.
constexpr uint64_t kMaxMatchWalk = 512;

}  // namespace

Status CheckNodeInvariants(const Raft& r) {
  const RaftLog& log = r.log();
  if (log.applied() > log.committed()) return Violation(r, "applied > committed");
  if (log.committed() > log.LastIndex()) return Violation(r, "committed > last index");
  if (log.FirstIndex() > log.LastIndex() + 1) return Violation(r, "first index > last + 1");
  if (log.LastTerm() > r.term()) return Violation(r, "log has an entry from a future term");
  if (r.role() == Role::kLeader) {
    if (r.lead() != r.id()) return Violation(r, "leader does not know itself as leader");
    if (r.vote() != r.id()) return Violation(r, "leader did not vote for itself");
    auto it = r.tracker().progress.find(r.id());
    if (it == r.tracker().progress.end()) return Violation(r, "leader has no own progress");
    if (it->second.match != log.StableLastIndex()) {
      return Violation(r, "leader match != persisted last index");
    }
    for (const auto& [id, pr] : r.tracker().progress) {
      if (pr.match >= pr.next) return Violation(r, "progress match >= next");
      if (pr.match > log.LastIndex()) return Violation(r, "progress match beyond leader log");
    }
  }
  if (r.role() == Role::kCandidate && r.vote() != r.id()) {
    return Violation(r, "candidate did not vote for itself");
  }
  if (r.is_learner() && r.role() != Role::kFollower) return Violation(r, "learner campaigns");
  // Terms never decrease along the log (checked on a bounded tail).
  uint64_t lo = std::max(log.FirstIndex(), log.LastIndex() > kMaxMatchWalk
                                                ? log.LastIndex() - kMaxMatchWalk
                                                : uint64_t{1});
  uint64_t prev = log.TermOrZero(lo - 1);
  for (uint64_t i = lo; i <= log.LastIndex(); ++i) {
    uint64_t t = log.TermOrZero(i);
    if (t < prev) return Violation(r, "log terms decrease at " + std::to_string(i));
    prev = t;
  }
  return Status::OK();
}

Status ClusterInvariants::RecordCommitted(const Raft& r) {
  const RaftLog& log = r.log();
  uint64_t& upto = recorded_upto_[r.id()];
  uint64_t lo = std::max(upto + 1, log.FirstIndex());
  if (lo > log.committed()) return Status::OK();
  auto ents = log.Slice(lo, log.committed() + 1, kNoLimit);
  if (!ents.ok()) return Status::OK();  // compacted meanwhile: nothing to compare
  for (const Entry& e : *ents) {
    EntryId id{e.term, HashData(e)};
    auto [it, inserted] = committed_.emplace(e.index, id);
    if (!inserted && (it->second.term != id.term || it->second.data_hash != id.data_hash)) {
      return Violation(r, "State Machine Safety: different entry committed at index " +
                              std::to_string(e.index));
    }
  }
  upto = log.committed();
  return Status::OK();
}

Status ClusterInvariants::CheckLeaderCompleteness(const Raft& leader) const {
  const RaftLog& log = leader.log();
  for (auto it = committed_.lower_bound(log.FirstIndex()); it != committed_.end(); ++it) {
    // Entries committed in a term before the leader's must be in its log (§5.4).
    if (it->second.term >= leader.term()) continue;
    if (it->first > log.LastIndex()) {
      return Violation(leader, "Leader Completeness: missing committed index " +
                                   std::to_string(it->first));
    }
    if (log.TermOrZero(it->first) != it->second.term) {
      return Violation(leader, "Leader Completeness: wrong term at committed index " +
                                   std::to_string(it->first));
    }
  }
  return Status::OK();
}

Status ClusterInvariants::CheckLogMatching(const Raft& a, const Raft& b) {
  // §5.3 Log Matching: if two logs have an entry with the same index and
  // term, the logs are identical up to it. Walk down from the highest common
  // index to the first matching term, then compare below it (bounded).
  uint64_t lo = std::max(a.log().FirstIndex(), b.log().FirstIndex());
  uint64_t hi = std::min(a.log().LastIndex(), b.log().LastIndex());
  if (lo > hi) return Status::OK();
  uint64_t i = hi;
  uint64_t steps = 0;
  while (i >= lo && a.log().TermOrZero(i) != b.log().TermOrZero(i) && steps < kMaxMatchWalk) {
    --i;
    ++steps;
  }
  if (i < lo || steps >= kMaxMatchWalk) return Status::OK();
  uint64_t stop = i > kMaxMatchWalk && i - kMaxMatchWalk > lo ? i - kMaxMatchWalk : lo;
  auto ea = a.log().Slice(stop, i + 1, kNoLimit);
  auto eb = b.log().Slice(stop, i + 1, kNoLimit);
  if (!ea.ok() || !eb.ok()) return Status::OK();
  if (!(*ea == *eb)) {
    return Violation(a, "Log Matching: logs agree at index " + std::to_string(i) +
                            " but differ before it with node " + std::to_string(b.id()));
  }
  return Status::OK();
}

Status ClusterInvariants::Check(const std::vector<const RawNode*>& nodes) {
  for (const RawNode* n : nodes) {
    const Raft& r = n->raft();
    RINGKV_RETURN_IF_ERROR(CheckNodeInvariants(r));
    if (r.role() == Role::kLeader) {
      auto [it, inserted] = leader_of_term_.emplace(r.term(), r.id());
      if (!inserted && it->second != r.id()) {
        return Violation(r, "Election Safety: two leaders in one term (other " +
                                std::to_string(it->second) + ")");
      }
    }
    RINGKV_RETURN_IF_ERROR(RecordCommitted(r));
  }
  for (const RawNode* n : nodes) {
    if (n->raft().role() == Role::kLeader) {
      RINGKV_RETURN_IF_ERROR(CheckLeaderCompleteness(n->raft()));
    }
  }
  for (size_t x = 0; x < nodes.size(); ++x) {
    for (size_t y = x + 1; y < nodes.size(); ++y) {
      RINGKV_RETURN_IF_ERROR(CheckLogMatching(nodes[x]->raft(), nodes[y]->raft()));
    }
  }
  return Status::OK();
}

}  // namespace ringkv::consensus
