// LogStorage: the narrow read interface through which the Raft core reads its
// persisted log, hard state and latest snapshot. The server implements it over
// storage/raftlog; MemoryLogStorage implements it in memory for unit tests
// and the simulator.
//
// The core only reads through this interface. Writes (append, snapshot
// install, compaction, hard state) are done by the owner of the storage after
// it handles a Ready, so the core never blocks on I/O.
//
// Thread safety: none; a LogStorage is used by the one loop thread that owns
// the group. The core keeps a pointer; the owner keeps the storage alive for
// the lifetime of the RawNode.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "consensus/messages.h"
#include "storage/base/status.h"

namespace ringkv::consensus {

constexpr uint64_t kNoLimit = std::numeric_limits<uint64_t>::max();

// Status codes with a specific meaning for LogStorage reads:
//   Status::OutOfRange("compacted")   the requested index is below FirstIndex()
//   Status::NotFound("unavailable")   the requested index is above LastIndex()
//   Status::Busy("snapshot temporarily unavailable")
bool IsCompacted(const Status& s);
bool IsUnavailable(const Status& s);
Status CompactedError();
Status UnavailableError();
Status SnapshotTemporarilyUnavailableError();

struct InitialState {
  HardState hard_state;
  ConfState conf_state;
};

class LogStorage {
 public:
  virtual ~LogStorage() = default;

  // The persisted hard state and the current membership (from the last
  // snapshot plus any conf changes the application has recorded).
  virtual Result<InitialState> GetInitialState() const = 0;

  // Entries in [lo, hi), at least one entry if any is in range, and then as
  // many as fit in max_bytes (sum of EntrySize).
  // REQUIRES: FirstIndex() <= lo <= hi <= LastIndex() + 1.
  // Errors: compacted if lo < FirstIndex(); unavailable if hi > LastIndex()+1.
  virtual Result<std::vector<Entry>> Entries(uint64_t lo, uint64_t hi,
                                             uint64_t max_bytes) const = 0;

  // Term of entry i, for FirstIndex()-1 <= i <= LastIndex() (the term of
  // FirstIndex()-1 is the snapshot's term). Errors: compacted / unavailable.
  virtual Result<uint64_t> Term(uint64_t i) const = 0;

  // Index of the first entry still held (snapshot index + 1).
  virtual uint64_t FirstIndex() const = 0;
  // Index of the last entry held (snapshot index if no entries follow it).
  virtual uint64_t LastIndex() const = 0;

  // The most recent snapshot. May return SnapshotTemporarilyUnavailable when
  // one is being produced; the core retries later.
  virtual Result<Snapshot> GetSnapshot() const = 0;
};

// In-memory LogStorage with etcd MemoryStorage semantics. The entry vector
// always starts with a dummy entry at position 0 whose index/term are those of
// the last snapshot (or 0/0).
// Invariant: ents_[k].index == ents_[0].index + k.
class MemoryLogStorage : public LogStorage {
 public:
  MemoryLogStorage();

  Result<InitialState> GetInitialState() const override;
  Result<std::vector<Entry>> Entries(uint64_t lo, uint64_t hi, uint64_t max_bytes) const override;
  Result<uint64_t> Term(uint64_t i) const override;
  uint64_t FirstIndex() const override;
  uint64_t LastIndex() const override;
  Result<Snapshot> GetSnapshot() const override;

  void SetHardState(const HardState& hs) { hard_state_ = hs; }
  const HardState& hard_state() const { return hard_state_; }
  // Bootstrap: sets the membership of a brand-new group (no snapshot).
  void SetConfState(const ConfState& cs) { snapshot_.meta.conf_state = cs; }

  // Replaces the contents with the snapshot. Returns OutOfRange
  // ("snapshot out of date") if it is older than the current snapshot.
  Status ApplySnapshot(const Snapshot& snap);

  // Records a snapshot of the state machine at applied index i (<= LastIndex)
  // with the given membership and data, so leaders can send it. Entries are
  // kept; call Compact to drop them. Returns OutOfRange if i is not newer than
  // the current snapshot.
  Result<Snapshot> CreateSnapshot(uint64_t i, const ConfState* cs, std::string data);

  // Drops entries before compact_index. Returns OutOfRange ("compacted") if
  // already compacted past it. REQUIRES: compact_index <= LastIndex().
  Status Compact(uint64_t compact_index);

  // Appends entries; entries overlapping the existing tail replace it (a new
  // leader overwrote them), entries already compacted are ignored.
  // REQUIRES: entries are consecutive and start at or below LastIndex()+1.
  Status Append(const std::vector<Entry>& entries);

 private:
  HardState hard_state_;
  Snapshot snapshot_;
  std::vector<Entry> ents_;
};

}  // namespace ringkv::consensus
