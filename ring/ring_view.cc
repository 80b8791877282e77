#include "ring/ring_view.h"

#include <algorithm>

namespace ringkv::ring::internal {

RingView::RingView(const Membership& membership, const RingConfig& config)
    : shard_map(config.shard_count), replication(config.replication_factor) {
  for (const NodeInfo& n : membership.nodes()) {
    if (!n.live()) continue;
    uint32_t index = static_cast<uint32_t>(node_ids.size());
    node_ids.push_back(n.id);
    weights.push_back(n.weight);
    for (uint64_t t : n.tokens) tokens.push_back(Token{t, index});
  }
  std::sort(tokens.begin(), tokens.end());
  Rebuild();
}

void RingView::Rebuild() {
  const uint32_t shards = shard_map.shard_count();
  const size_t num_tokens = tokens.size();
  gap_start.assign(shards + 1, 0);
  for (uint32_t s = 0; s < shards; ++s) {
    uint64_t p = shard_map.RingPosition(s);
    gap_start[s] = static_cast<uint32_t>(
        std::lower_bound(tokens.begin(), tokens.end(), p,
                         [](const Token& t, uint64_t v) { return t.pos < v; }) -
        tokens.begin());
  }
  gap_start[shards] = static_cast<uint32_t>(num_tokens);
  const size_t want = std::min<size_t>(replication, node_ids.size());
  lists.assign(shards, {});
  for (uint32_t s = 0; s < shards; ++s) {
    std::vector<uint32_t>& list = lists[s];
    list.reserve(want);
    // At most one lap of the ring; stops as soon as R distinct owners are met.
    for (size_t k = 0; k < num_tokens && list.size() < want; ++k) {
      uint32_t node = tokens[(gap_start[s] + k) % num_tokens].node;
      if (std::find(list.begin(), list.end(), node) == list.end()) list.push_back(node);
    }
  }
}

}  // namespace ringkv::ring::internal
