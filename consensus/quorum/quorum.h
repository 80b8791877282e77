// Quorum arithmetic for Raft: the commit index and the election outcome of a
// majority configuration and of a joint configuration (two majorities, both
// of which must agree; dissertation §4.3).
//
// Pure functions over value types; no state, no threads.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

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

std::string Describe(const MajorityConfig& c);

}  // namespace ringkv::consensus::quorum
