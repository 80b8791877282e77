// Quorum arithmetic for Raft: the commit index and the election outcome of a
// majority configuration and of a joint configuration (two majorities, both
// of which must agree; dissertation §4.3).
//
// Pure functions over value types; no state, no threads.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "consensus/messages.h"

namespace ringkv::consensus::quorum {

enum class VoteResult : uint8_t { kPending = 0, kLost, kWon };

// A set of voters; a quorum is any strict majority of it.
using MajorityConfig = std::set<NodeId>;

// The largest index acknowledged by a majority of `voters`, given each
// voter's acknowledged (match) index; voters missing from `acked` count as 0.
// An empty config returns UINT64_MAX so that it does not constrain a joint
// config (where the outgoing half is usually empty).
uint64_t CommittedIndex(const MajorityConfig& voters, const std::map<NodeId, uint64_t>& acked);

// Election outcome: kWon once a majority granted, kLost once a majority can no
// longer be reached, kPending otherwise. An empty config wins (by convention,
// so a joint config with an empty outgoing half reduces to the incoming one).
VoteResult Vote(const MajorityConfig& voters, const std::map<NodeId, bool>& votes);

// CommittedIndex with each voter's index from `acked(id)`, without building a
// map (the leader computes it on every acknowledgement).
template <class Acked>
uint64_t MajorityCommittedBy(const MajorityConfig& voters, Acked acked) {
  if (voters.empty()) return std::numeric_limits<uint64_t>::max();
  std::array<uint64_t, 9> small{};
  std::vector<uint64_t> large;
  uint64_t* idx = small.data();
  if (voters.size() > small.size()) {
    large.resize(voters.size());
    idx = large.data();
  }
  size_t n = 0;
  for (NodeId id : voters) idx[n++] = acked(id);
  // Sorted descending, the (n/2+1)-th value is acknowledged by a majority.
  std::nth_element(idx, idx + n / 2, idx + n, std::greater<uint64_t>());
  return idx[n / 2];
}

// Whether a majority of `voters` satisfies `granted(id)`; an empty config does.
// Vote's kWon without building a map: for checks made on every loop iteration.
template <class Granted>
bool MajorityGrants(const MajorityConfig& voters, Granted granted) {
  size_t yes = 0;
  for (NodeId id : voters) yes += granted(id) ? 1 : 0;
  return voters.empty() || yes >= voters.size() / 2 + 1;
}

// Two majority configs; the outgoing one is empty unless in a joint config.
struct JointConfig {
  MajorityConfig incoming;
  MajorityConfig outgoing;

  bool Contains(NodeId id) const { return incoming.count(id) || outgoing.count(id); }
  std::set<NodeId> IDs() const;
  bool operator==(const JointConfig&) const = default;
};

// min(CommittedIndex(incoming), CommittedIndex(outgoing)).
uint64_t CommittedIndex(const JointConfig& c, const std::map<NodeId, uint64_t>& acked);
// Won only if both halves won; lost if either lost.
VoteResult Vote(const JointConfig& c, const std::map<NodeId, bool>& votes);
// min over both halves (MajorityCommittedBy).
template <class Acked>
uint64_t JointCommittedBy(const JointConfig& c, Acked acked) {
  return std::min(MajorityCommittedBy(c.incoming, acked), MajorityCommittedBy(c.outgoing, acked));
}
// Both halves grant (MajorityGrants).
template <class Granted>
bool JointGrants(const JointConfig& c, Granted granted) {
  return MajorityGrants(c.incoming, granted) && MajorityGrants(c.outgoing, granted);
}

std::string Describe(const MajorityConfig& c);

}  // namespace ringkv::consensus::quorum
