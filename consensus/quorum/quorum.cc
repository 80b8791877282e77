#include "consensus/quorum/quorum.h"

#include <algorithm>
#include <limits>
#include <vector>

namespace ringkv::consensus::quorum {

uint64_t CommittedIndex(const MajorityConfig& voters, const std::map<NodeId, uint64_t>& acked) {
  return MajorityCommittedBy(voters, [&acked](NodeId id) -> uint64_t {
    auto it = acked.find(id);
    return it == acked.end() ? 0 : it->second;
  });
}

VoteResult Vote(const MajorityConfig& voters, const std::map<NodeId, bool>& votes) {
  if (voters.empty()) return VoteResult::kWon;
  size_t granted = 0, missing = 0;
  for (NodeId id : voters) {
    auto it = votes.find(id);
    if (it == votes.end()) {
      ++missing;
    } else if (it->second) {
      ++granted;
    }
  }
  size_t q = voters.size() / 2 + 1;
  if (granted >= q) return VoteResult::kWon;
  if (granted + missing >= q) return VoteResult::kPending;
  return VoteResult::kLost;
}

std::set<NodeId> JointConfig::IDs() const {
  std::set<NodeId> s = incoming;
  s.insert(outgoing.begin(), outgoing.end());
  return s;
}

uint64_t CommittedIndex(const JointConfig& c, const std::map<NodeId, uint64_t>& acked) {
  return std::min(CommittedIndex(c.incoming, acked), CommittedIndex(c.outgoing, acked));
}

VoteResult Vote(const JointConfig& c, const std::map<NodeId, bool>& votes) {
  VoteResult a = Vote(c.incoming, votes);
  VoteResult b = Vote(c.outgoing, votes);
  if (a == b) return a;
  if (a == VoteResult::kLost || b == VoteResult::kLost) return VoteResult::kLost;
  return VoteResult::kPending;
}

std::string Describe(const MajorityConfig& c) {
  std::string s = "(";
  bool first = true;
  for (NodeId id : c) {
    if (!first) s += " ";
    first = false;
    s += std::to_string(id);
  }
  return s + ")";
}

}  // namespace ringkv::consensus::quorum
