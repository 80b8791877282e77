// Inflights: the sliding window of kApp messages sent to one follower and not
// yet acknowledged (flow control for pipelined replication, dissertation
// §10.2.1). Each element is the last entry index carried by one message.
//
// Owned by the follower's Progress on the leader. Invariants: indexes are
// added in increasing order; count() <= capacity.
#pragma once

#include <cstdint>
#include <deque>

namespace ringkv::consensus::progress {

class Inflights {
 public:
  explicit Inflights(int capacity) : capacity_(capacity) {}

  // Records a message whose last entry is `index`.
  // REQUIRES: !Full() and index >= the last one added.
  void Add(uint64_t index);
  // Frees every message whose last index is <= `to` (they were acknowledged).
  void FreeLE(uint64_t to);
  // Frees the oldest message (used when acknowledgements were lost).
  void FreeFirstOne() {
    if (!q_.empty()) q_.pop_front();
  }
  bool Full() const { return static_cast<int>(q_.size()) >= capacity_; }
  int Count() const { return static_cast<int>(q_.size()); }
  void Reset() { q_.clear(); }
  int capacity() const { return capacity_; }

 private:
  int capacity_;
  std::deque<uint64_t> q_;  // bounded by capacity_
};

}  // namespace ringkv::consensus::progress
