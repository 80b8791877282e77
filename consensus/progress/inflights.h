// Inflights: the sliding window of kApp messages sent to one follower and not
// yet acknowledged (flow control for pipelined replication, dissertation
// §10.2.1). Each element is the last entry index carried by one message and
// the bytes of its entries (a leader may bound the bytes in flight too).
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

  // Records a message whose last entry is `index`, carrying `bytes` of entries.
  // REQUIRES: !Full() and index >= the last one added.
  void Add(uint64_t index, uint64_t bytes = 0);
  // Frees every message whose last index is <= `to` (they were acknowledged).
  void FreeLE(uint64_t to);
  // Frees the oldest message (used when acknowledgements were lost).
  void FreeFirstOne();
  bool Full() const { return static_cast<int>(q_.size()) >= capacity_; }
  int Count() const { return static_cast<int>(q_.size()); }
  // Entry bytes of the messages in flight.
  uint64_t Bytes() const { return bytes_; }
  void Reset() {
    q_.clear();
    bytes_ = 0;
  }
  int capacity() const { return capacity_; }

 private:
  struct Sent {
    uint64_t index;
    uint64_t bytes;
  };
  int capacity_;
  std::deque<Sent> q_;  // bounded by capacity_
  uint64_t bytes_ = 0;
};

}  // namespace ringkv::consensus::progress
