// DedupWindow: the replies of a shard's recently applied client writes, by
// write id, so that a write the router retries (its first attempt's outcome
// was lost with a leader or a forward) is applied once and answered with the
// first attempt's reply.
//
// Every replica of the shard applies the same entries in the same order and
// forgets by the entries' own clocks and counts, so every replica holds the
// same window and a new leader dedups like the old one. The window travels in
// the shard's snapshots (EncodeTo / DecodeFrom), and replaying the log after
// a snapshot rebuilds the rest, so a restart or a snapshot install keeps it.
// What it does not cover: a persistent engine (lsm, btree) restarts from its
// own files, past the snapshot, and the writes between the snapshot and the
// engine's applied index are not in the window; and a retry that comes after
// the window forgot its write (kMaxAgeMs of entry clock, kMaxEntries or
// kMaxBytes) is applied again.
//
// Owned by the cluster router; used on the replication thread only.
#pragma once

#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>
#include <vector>

#include "server/cluster/command_codec.h"
#include "storage/base/status.h"

namespace ringkv::server::cluster {

class DedupWindow {
 public:
  static constexpr int64_t kMaxAgeMs = 60'000;
  static constexpr size_t kMaxEntries = 8192;
  static constexpr size_t kMaxBytes = 1 << 20;
  static_assert((kMaxEntries & (kMaxEntries - 1)) == 0, "the ring doubles up to kMaxEntries");

  // The reply of the applied write `id`, or nullptr.
  const std::string* Find(WriteId id) const;
  // Records the reply of write `id` applied with entry clock `now_ms`, then
  // forgets the oldest writes beyond the bounds.
  void Remember(WriteId id, int64_t now_ms, std::string reply);

  size_t size() const { return count_; }

  // Appends the window to *out, oldest first (format in dedup_window.cc).
  void EncodeTo(std::string* out) const;
  // Replaces the window with one EncodeTo wrote (empty input: an empty
  // window); Corruption on bad bytes (the window is left empty then).
  Status DecodeFrom(std::string_view in);

 private:
  // The writes live in a ring, oldest at `head_`, in apply order, which is
  // also the order they are forgotten in; an open-addressed table (linear
  // probing, power-of-two size, at most half full) maps a write id to its
  // ring position. Both grow by doubling up to kMaxEntries, so a quiet shard
  // keeps a small window. Per applied write: no allocation once warm (replies
  // such as "+OK" fit in the string's own buffer) and two or three probes,
  // where a node-based map allocated and freed a node and hashed three times.
  struct Applied {
    WriteId id;
    int64_t now_ms = 0;
    std::string reply;
  };
  static size_t HashOf(const WriteId& id) {
    uint64_t h = id.origin * 0x9e3779b97f4a7c15ull ^ id.seq;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return static_cast<size_t>(h ^ (h >> 32));
  }
  // A table slot: the id's hash (low 32 bits) above its ring index, so that a
  // probe loads a ring entry only when the hashes match, and deletion finds a
  // slot's home without loading its ring entry: the ring is the large part
  // (64 shards x 8192 writes), and each load of it was a cache miss.
  static constexpr uint64_t kEmpty = UINT64_MAX;
  static uint64_t SlotOf(uint32_t hash, size_t at) { return uint64_t{hash} << 32 | at; }
  static uint32_t SlotHash(uint64_t slot) { return static_cast<uint32_t>(slot >> 32); }
  static uint32_t SlotRing(uint64_t slot) { return static_cast<uint32_t>(slot); }
  // The table index holding `id` (whose HashOf is `hash`), or of the empty
  // slot where it would go.
  size_t Probe(const WriteId& id, uint32_t hash) const;
  void Grow();
  void ForgetOldest();
  Applied& At(size_t age) { return ring_[(head_ + age) & (ring_.size() - 1)]; }
  const Applied& At(size_t age) const { return ring_[(head_ + age) & (ring_.size() - 1)]; }

  std::vector<Applied> ring_;     // capacity: a power of two
  size_t head_ = 0;               // ring index of the oldest write
  size_t count_ = 0;
  std::vector<uint64_t> table_;   // SlotOf(hash, ring index) per slot, or kEmpty
  size_t bytes_ = 0;
  int64_t newest_ms_ = INT64_MIN;
};

}  // namespace ringkv::server::cluster
