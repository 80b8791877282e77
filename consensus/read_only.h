// ReadOnly: the leader's queue of pending ReadIndex requests (§6.4). Each
// request remembers the commit index at the time it arrived; once a quorum
// acknowledges a heartbeat carrying its context, that request and every one
// queued before it are safe to serve at their recorded index.
//
// Owned by the leader's Raft; reset on every role change. Bounded by
// kMaxPendingReads: requests beyond it are dropped (the client retries).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "consensus/messages.h"

namespace ringkv::consensus {

struct ReadIndexStatus {
  Message req;  // the original kReadIndex (from = requester, 0 or self if local)
  uint64_t index = 0;
  std::map<NodeId, bool> acks;
};

class ReadOnly {
 public:
  static constexpr size_t kMaxPendingReads = 4096;

  // Queues a request keyed by its context (req.entries[0].data). Returns
  // false if dropped (duplicate context or queue full).
  bool AddRequest(uint64_t index, const Message& req);
  // Records that `id` acknowledged the heartbeat carrying ctx; returns the
  // acks so far, or nullptr if ctx is unknown.
  const std::map<NodeId, bool>* RecvAck(NodeId id, const std::string& ctx);
  // Dequeues ctx and every request before it.
  std::vector<ReadIndexStatus> Advance(const std::string& ctx);
  std::string LastPendingRequestCtx() const { return queue_.empty() ? "" : queue_.back(); }
  size_t PendingCount() const { return queue_.size(); }

 private:
  std::map<std::string, ReadIndexStatus> pending_;
  std::deque<std::string> queue_;  // Invariant: same keys as pending_, in arrival order
};

}  // namespace ringkv::consensus
