#include "ring/token_allocator.h"

#include <algorithm>
#include <unordered_set>

#include "ring/ring_view.h"

namespace ringkv::ring {
namespace {

using internal::RingView;
using internal::Token;
using Wide = __int128;

constexpr Wide kJoinerCostDivisor = 4;
constexpr int kRefineRounds = 3;

uint64_t Mix64(uint64_t x) {
  // splitmix64 finalizer: a fixed, portable bit mixer for tie-breaking.
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A change of one node's load caused by one candidate token.
struct Delta {
  uint32_t node;
  int32_t replicas;
  int32_t leaders;
};

class Allocator {
 public:
  Allocator(const Membership& membership, const RingConfig& config, NodeId id, uint32_t weight)
      : view_(membership, config), id_(id), weight_(weight) {
    for (const NodeInfo& n : membership.nodes()) taken_.insert(n.tokens.begin(), n.tokens.end());
    joiner_ = static_cast<uint32_t>(view_.node_ids.size());
    view_.node_ids.push_back(id);
    view_.weights.push_back(weight);
    SetTargets();
    CountLoads();
  }

  std::vector<uint64_t> Run() {
    std::vector<uint64_t> placed;
    for (uint32_t ordinal = 0; ordinal < weight_; ++ordinal) {
      uint64_t pos = PlaceOne(ordinal);
      placed.push_back(pos);
    }
    // Greedy placement commits early tokens before later ones are known, and
    // can stall in a local minimum. A few rounds of lifting each token out and
    // re-placing it (its old spot is a candidate, so the cost never rises)
    // fix most of that; measured in ring/README.md.
    for (int round = 0; round < kRefineRounds; ++round) {
      for (uint32_t ordinal = 0; ordinal < weight_; ++ordinal) {
        // Lift the token out and put it back where it now helps most.
        uint64_t old = placed[ordinal];
        auto it = std::find_if(view_.tokens.begin(), view_.tokens.end(),
                               [old](const Token& t) { return t.pos == old; });
        RINGKV_CHECK(it != view_.tokens.end());
        view_.tokens.erase(it);
        taken_.erase(old);
        view_.Rebuild();
        CountLoads();
        placed[ordinal] = PlaceOne(ordinal);
      }
    }
    std::sort(placed.begin(), placed.end());
    return placed;
  }

 private:
  // Fair shares in the cluster after the join, scaled by the total weight so
  // they are integers: node i should hold total_replicas * w_i / W replicas,
  // i.e. replicas * W == total_replicas * w_i.
  void SetTargets() {
    const uint64_t n = view_.node_ids.size();
    const uint64_t shards = view_.shard_map.shard_count();
    replicas_per_shard_ = std::min<uint64_t>(view_.replication, n);
    total_weight_ = 0;
    for (uint32_t w : view_.weights) total_weight_ += w;
    target_replicas_.clear();
    target_leaders_.clear();
    for (uint32_t w : view_.weights) {
      target_replicas_.push_back(Wide(shards) * replicas_per_shard_ * w);
      target_leaders_.push_back(Wide(shards) * w);
    }
  }

  void CountLoads() {
    replicas_.assign(view_.node_ids.size(), 0);
    leaders_.assign(view_.node_ids.size(), 0);
    CountEmptyRuns();
    all_lists_have_joiner_ = true;
    for (const auto& list : view_.lists) {
      if (std::find(list.begin(), list.end(), joiner_) == list.end()) {
        all_lists_have_joiner_ = false;
      }
      for (size_t k = 0; k < list.size(); ++k) {
        ++replicas_[list[k]];
        if (k == 0) ++leaders_[list[k]];
      }
    }
  }

  // Cost of one node's load. Both errors are relative to the mean load (the
  // replica mean is replicas_per_shard_ times the leader mean), so after
  // scaling by the common denominator a leader error weighs
  // replicas_per_shard_^2 times a replica error of the same absolute size.
  Wide NodeCost(uint32_t node, int64_t replicas, int64_t leaders) const {
    Wide er = Wide(replicas) * total_weight_ - target_replicas_[node];
    Wide el = Wide(leaders) * total_weight_ - target_leaders_[node];
    Wide rps = replicas_per_shard_;
    return er * er + el * el * rps * rps;
  }

  static void AddDelta(std::vector<Delta>* deltas, uint32_t node, int32_t dr, int32_t dl) {
    for (Delta& d : *deltas) {
      if (d.node == node) {
        d.replicas += dr;
        d.leaders += dl;
        return;
      }
    }
    deltas->push_back(Delta{node, dr, dl});
  }

  // The load change on shard s, times `times`, if the joiner is inserted
  // after `distinct` distinct owners of its walk. REQUIRES: the joiner is not
  // among them.
  void ShardEffect(uint32_t s, size_t distinct, int32_t times, std::vector<Delta>* deltas) const {
    const std::vector<uint32_t>& list = view_.lists[s];
    bool has_joiner = std::find(list.begin(), list.end(), joiner_) != list.end();
    if (!has_joiner) {
      AddDelta(deltas, joiner_, times, 0);
      if (list.size() == view_.replication) AddDelta(deltas, list.back(), -times, 0);
    }
    if (distinct == 0) {
      if (list.empty()) {
        AddDelta(deltas, joiner_, 0, times);
      } else if (list[0] != joiner_) {
        AddDelta(deltas, joiner_, 0, times);
        AddDelta(deltas, list[0], 0, -times);
      }
    }
  }

  // empty_before_[s] = how many gaps right before shard s (s-1, s-2, ...,
  // cyclically, at most S-1) hold no token. Those shards walk exactly like
  // shard s, so a candidate affects them exactly as it affects s.
  void CountEmptyRuns() {
    const uint32_t shards = view_.shard_map.shard_count();
    empty_before_.assign(shards, 0);
    auto empty = [this](uint32_t gap) { return view_.gap_start[gap] == view_.gap_start[gap + 1]; };
    // Two laps so runs that wrap past shard 0 are counted in full.
    uint32_t run = 0;
    for (uint32_t k = 0; k < 2 * shards; ++k) {
      uint32_t s = k % shards;
      if (k >= shards) empty_before_[s] = std::min(run, shards - 1);
      run = empty(s) ? run + 1 : 0;
    }
  }

  // Load changes of a token inserted in gap g before tokens[i].
  void Effect(uint32_t g, uint32_t i, std::vector<Delta>* deltas) const {
    deltas->clear();
    const uint32_t shards = view_.shard_map.shard_count();
    const int64_t num_tokens = static_cast<int64_t>(view_.tokens.size());
    int64_t j = static_cast<int64_t>(i) - 1;  // unrolled index of the token before the candidate
    uint32_t seen[kMaxReplicationFactor];
    size_t distinct = 0;
    bool joiner_seen = false;
    for (uint32_t k = 0; k < shards;) {
      int64_t unrolled = static_cast<int64_t>(g) - k;
      uint32_t s = static_cast<uint32_t>(unrolled >= 0 ? unrolled : unrolled + shards);
      int64_t start = view_.gap_start[s] - (unrolled >= 0 ? 0 : num_tokens);
      // Extend the walk prefix back to shard s's position. Each shard's prefix
      // contains the next shard's, so once R owners or the joiner are in it,
      // no earlier shard is affected either.
      while (j >= start && !joiner_seen && distinct < view_.replication) {
        uint32_t node = view_.tokens[((j % num_tokens) + num_tokens) % num_tokens].node;
        if (node == joiner_) {
          joiner_seen = true;
        } else if (std::find(seen, seen + distinct, node) == seen + distinct) {
          seen[distinct++] = node;
        }
        --j;
      }
      if (joiner_seen || distinct >= view_.replication) break;
      // Once every list holds the joiner, a shard whose walk meets another
      // owner first changes neither replicas nor leader, and neither does any
      // shard before it. (Saves O(S) per candidate while N <= R.)
      if (distinct >= 1 && all_lists_have_joiner_) break;
      // Shards s-1 .. s-run have empty gaps: same walk, same effect.
      uint32_t run = std::min(empty_before_[s], shards - 1 - k);
      ShardEffect(s, distinct, static_cast<int32_t>(run + 1), deltas);
      k += run + 1;
    }
  }

  Wide CostChange(const std::vector<Delta>& deltas) const {
    Wide change = 0;
    for (const Delta& d : deltas) {
      Wide c = NodeCost(d.node, replicas_[d.node] + d.replicas, leaders_[d.node] + d.leaders) -
               NodeCost(d.node, replicas_[d.node], leaders_[d.node]);
      // The joiner's own error counts a quarter: filling the joiner must not
      // outweigh draining the most loaded existing nodes, but must still pull
      // when every candidate would also cost an existing node something.
      if (d.node == joiner_) c /= kJoinerCostDivisor;
      change += c;
    }
    return change;
  }

  // True if the candidate would give the joiner more than the ceiling of its
  // fair share of replicas or leaders: the joiner's load is exactly what the
  // join moves, so it must not absorb other nodes' excess.
  bool OverCap(const std::vector<Delta>& deltas) const {
    for (const Delta& d : deltas) {
      if (d.node != joiner_) continue;
      Wide r = Wide(replicas_[joiner_] + d.replicas) * total_weight_;
      Wide l = Wide(leaders_[joiner_] + d.leaders) * total_weight_;
      Wide slack = total_weight_ - 1;  // r <= ceil(target) <=> r*W <= target*W + W - 1
      if (d.replicas > 0 && r > target_replicas_[joiner_] + slack) return true;
      if (d.leaders > 0 && l > target_leaders_[joiner_] + slack) return true;
    }
    return false;
  }

  // The free ring interval [lo, hi) for a token in gap g before tokens[i].
  void FreeRange(uint32_t g, uint32_t i, Wide* lo, Wide* hi) const {
    const uint32_t shards = view_.shard_map.shard_count();
    *lo = i > view_.gap_start[g] ? Wide(view_.tokens[i - 1].pos) + 1
                                 : Wide(view_.shard_map.RingPosition(g));
    Wide gap_end = g + 1 < shards ? Wide(view_.shard_map.RingPosition(g + 1)) : Wide(1) << 64;
    *hi = i < view_.gap_start[g + 1] ? Wide(view_.tokens[i].pos) : gap_end;
  }

  uint64_t PlaceOne(uint32_t ordinal) {
    const uint32_t shards = view_.shard_map.shard_count();
    std::vector<Delta> deltas;
    bool found = false;
    Wide best_cost = 0;
    uint64_t best_tie = 0;
    uint32_t best_g = 0, best_i = 0;
    for (uint32_t g = 0; g < shards; ++g) {
      for (uint32_t i = view_.gap_start[g]; i <= view_.gap_start[g + 1]; ++i) {
        Wide lo, hi;
        FreeRange(g, i, &lo, &hi);
        if (lo >= hi) continue;  // no free position left between these neighbours
        Effect(g, i, &deltas);
        if (OverCap(deltas)) continue;
        Wide cost = CostChange(deltas);
        uint64_t tie = Mix64(id_ ^ Mix64((uint64_t{ordinal} << 32) ^
                                         Mix64((uint64_t{g} << 32) | (i - view_.gap_start[g]))));
        if (!found || cost < best_cost || (cost == best_cost && tie < best_tie)) {
          found = true;
          best_cost = cost;
          best_tie = tie;
          best_g = g;
          best_i = i;
        }
      }
    }
    // 2^64 positions and at most 16384 * 1024 tokens: a free slot always exists.
    RINGKV_CHECK(found);
    Wide lo, hi;
    FreeRange(best_g, best_i, &lo, &hi);
    Wide mid = lo + (hi - lo) / 2;
    // Tokens of down or leaving nodes are not in the view; step past them.
    while (taken_.count(static_cast<uint64_t>(mid)) != 0 && mid + 1 < hi) ++mid;
    uint64_t pos = static_cast<uint64_t>(mid);
    RINGKV_CHECK(taken_.insert(pos).second);
    view_.tokens.insert(view_.tokens.begin() + best_i, Token{pos, joiner_});
    view_.Rebuild();
    CountLoads();
    return pos;
  }

  RingView view_;
  NodeId id_;
  uint32_t weight_;
  uint32_t joiner_ = 0;
  uint64_t replicas_per_shard_ = 0;
  uint64_t total_weight_ = 0;
  std::vector<Wide> target_replicas_;  // scaled by total_weight_
  std::vector<Wide> target_leaders_;   // scaled by total_weight_
  std::vector<int64_t> replicas_;
  std::vector<int64_t> leaders_;
  bool all_lists_have_joiner_ = false;
  std::vector<uint32_t> empty_before_;
  std::unordered_set<uint64_t> taken_;  // every token in the table, live or not
};

}  // namespace

Result<std::vector<uint64_t>> AllocateTokens(const Membership& membership, const RingConfig& config,
                                             NodeId id, uint32_t weight) {
  RINGKV_RETURN_IF_ERROR(config.Validate());
  if (id == kNoNode) return Status::InvalidArgument("node id 0 is reserved");
  if (membership.Find(id) != nullptr) {
    return Status::InvalidArgument("node " + std::to_string(id) + " already a member");
  }
  if (weight == 0 || weight > kMaxTokensPerNode) {
    return Status::InvalidArgument("weight must be in [1, 1024]");
  }
  Allocator allocator(membership, config, id, weight);
  return allocator.Run();
}

Status JoinNode(Membership* membership, const RingConfig& config, NodeInfo node) {
  Result<std::vector<uint64_t>> tokens = AllocateTokens(*membership, config, node.id, node.weight);
  if (!tokens.ok()) return tokens.status();
  node.tokens = std::move(tokens.value());
  return membership->AddNode(std::move(node));
}

}  // namespace ringkv::ring
