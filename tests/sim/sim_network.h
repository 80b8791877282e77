// SimNetwork: the simulated network between simulated nodes. Every MessageBatch is
// one packet. A packet may be dropped (loss rate, partitions, a crashed endpoint),
// duplicated, and delayed by a random number of time units, which also reorders
// packets. Partitions are sets of blocked directed links, so one-way partitions are
// as easy as symmetric ones. Owned by the simulation; not thread-safe.
#pragma once

#include <cstdint>
#include <queue>
#include <set>
#include <utility>
#include <vector>

#include "consensus/multi/message_batch.h"
#include "tests/sim/sim_rng.h"

namespace ringkv::sim {

struct NetworkConfig {
  double loss = 0.0;
  double duplicate = 0.0;
  int64_t min_delay = 1;
  int64_t max_delay = 10;
  // Probability of a long delay (up to long_delay units): strong reordering.
  double long_delay_chance = 0.02;
  int64_t long_delay = 100;
};

class SimNetwork {
 public:
  using NodeId = uint64_t;
  explicit SimNetwork(SimRng* rng) : rng_(rng) {}

  NetworkConfig& config() { return config_; }
  void Block(NodeId from, NodeId to) { blocked_.insert({from, to}); }
  void HealAll() { blocked_.clear(); }
  bool Blocked(NodeId from, NodeId to) const { return blocked_.count({from, to}) > 0; }
  size_t blocked_links() const { return blocked_.size(); }

  void Send(int64_t now, consensus::multi::MessageBatch batch);
  // Pops every packet due at or before `now` whose link is not blocked.
  std::vector<consensus::multi::MessageBatch> Due(int64_t now);

  uint64_t sent() const { return sent_; }
  uint64_t dropped() const { return dropped_; }

 private:
  struct Packet {
    int64_t at;
    uint64_t seq;
    consensus::multi::MessageBatch batch;
    bool operator>(const Packet& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  int64_t Delay();

  SimRng* rng_;
  NetworkConfig config_;
  std::set<std::pair<NodeId, NodeId>> blocked_;
  std::priority_queue<Packet, std::vector<Packet>, std::greater<Packet>> queue_;
  uint64_t seq_ = 0;
  uint64_t sent_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace ringkv::sim
