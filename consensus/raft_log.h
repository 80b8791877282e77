// RaftLog: the log as the core sees it, stitched from two parts:
//   - stable entries, read through LogStorage (persisted by the owner), and
//   - unstable entries (and possibly a snapshot) that the core accepted but
//     the owner has not yet persisted; they go out in Ready::entries /
//     Ready::snapshot and become stable on Advance.
//
// Owned by one Raft instance.
// Invariants: applied <= committed <= LastIndex();
//             unstable_offset_ == index of unstable_[0] (when present);
//             FirstIndex()-1 <= committed.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "consensus/log_storage.h"
#include "consensus/messages.h"

namespace ringkv::consensus {

class RaftLog {
 public:
  RaftLog(LogStorage* storage, uint64_t max_committed_size_per_ready);

  uint64_t FirstIndex() const;
  uint64_t LastIndex() const;
  uint64_t LastTerm() const;
  // Term of entry i; 0 with an OK result if i is outside the log but not an
  // error (i > LastIndex). Compacted/other errors are returned.
  Result<uint64_t> Term(uint64_t i) const;
  // Term of i, or 0 if unavailable (for places where "unknown" is fine).
  uint64_t TermOrZero(uint64_t i) const;
  bool MatchTerm(uint64_t i, uint64_t term) const;

  // §5.4.1: whether a log ending at (last_index, last_term) is at least as
  // up-to-date as ours.
  bool IsUpToDate(uint64_t last_index, uint64_t last_term) const;

  // AppendEntries receiver (§5.3): if our entry at `index` has `log_term`,
  // appends `ents` (truncating a conflicting tail), advances commit to
  // min(committed, last new index) and returns the last new index.
  std::optional<uint64_t> MaybeAppend(uint64_t index, uint64_t log_term, uint64_t committed,
                                      const std::vector<Entry>& ents);
  // Appends after truncating at ents[0].index. Returns the new last index.
  // REQUIRES: ents[0].index > committed.
  uint64_t Append(const std::vector<Entry>& ents);
  // First index in ents whose term differs from ours (0 if none conflict and
  // none are new; the first new index if only new ones).
  uint64_t FindConflict(const std::vector<Entry>& ents) const;
  // Fast backtracking (etcd's findConflictByTerm): the largest index <= index
  // whose term is <= term, and that term.
  std::pair<uint64_t, uint64_t> FindConflictByTerm(uint64_t index, uint64_t term) const;

  // Entries [lo, hi) up to max_bytes (at least one). Errors: compacted.
  Result<std::vector<Entry>> Slice(uint64_t lo, uint64_t hi, uint64_t max_bytes) const;
  Result<std::vector<Entry>> EntriesFrom(uint64_t i, uint64_t max_bytes) const;

  // §5.4.2 is enforced by the caller passing the current term: only an entry
  // of the current term is committed by counting replicas.
  bool MaybeCommit(uint64_t max_index, uint64_t term);
  void CommitTo(uint64_t to);
  void AppliedTo(uint64_t i);

  // Unstable part, for Ready.
  const std::vector<Entry>& UnstableEntries() const { return unstable_; }
  const std::optional<Snapshot>& UnstableSnapshot() const { return unstable_snapshot_; }
  // Committed entries not yet handed out to the owner (applied, or in a Ready
  // or a stable-committed batch the owner has not finished).
  bool HasNextCommittedEnts() const;
  std::vector<Entry> NextCommittedEnts() const;
  // Committed entries up to `hi` were handed out (HandedOutTo(i) only moves up).
  void HandedOutTo(uint64_t i) { applying_ = std::max(applying_, i); }
  // The owner persisted entries up to (i, t) / the snapshot at index i.
  void StableTo(uint64_t i, uint64_t t);
  void StableSnapTo(uint64_t i);
  // The last index the owner has persisted (every entry up to it is in storage
  // and equal to ours). Meaningful without an unstable snapshot (a leader never
  // has one); with one it is the snapshot's index.
  uint64_t StableLastIndex() const { return unstable_offset_ - 1; }

  // Replaces the log with a snapshot (follower install, §7).
  void Restore(const Snapshot& snap);
  // The latest snapshot: the unstable one, else storage's.
  Result<Snapshot> GetSnapshot() const;

  uint64_t committed() const { return committed_; }
  uint64_t applied() const { return applied_; }
  LogStorage* storage() const { return storage_; }

 private:
  std::optional<uint64_t> UnstableMaybeTerm(uint64_t i) const;
  void TruncateAndAppendUnstable(const std::vector<Entry>& ents);

  LogStorage* storage_;  // not owned
  std::optional<Snapshot> unstable_snapshot_;
  std::vector<Entry> unstable_;
  uint64_t unstable_offset_ = 0;  // index of unstable_[0] (or where it would go)
  uint64_t committed_ = 0;        // Invariant: committed_ <= LastIndex()
  uint64_t applied_ = 0;          // Invariant: applied_ <= committed_
  uint64_t applying_ = 0;         // last committed index handed out (>= applied_ or 0)
  uint64_t max_committed_size_per_ready_;
};

}  // namespace ringkv::consensus
