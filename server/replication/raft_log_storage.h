// RaftLogStorage: the consensus::LogStorage of ONE Raft group, kept in the node's
// shared storage::raftlog::RaftLog (one WAL for every group of the node) plus one
// snapshot file per group.
//
// What lives where (formats at the top of raft_log_storage.cc):
//  - entries: RaftLog records of the group; each record's data is the entry type byte
//    followed by the entry's data (the RaftLog stores index and term itself);
//  - the group's "meta" as the RaftLog hard-state blob: Raft's HardState, the current
//    membership (ConfState as of the last applied conf change) and the index/term of
//    the last snapshot. One blob, so a crash never separates them;
//  - the last snapshot (state machine image + its meta) in `<dir>/snap-<group>`,
//    written to a temporary file, synced and renamed before the RaftLog compaction that
//    depends on it, so the state the log no longer holds is always on disk.
//
// Writes (Append, SetHardState, SetConfState, Compact) are buffered in the RaftLog and
// become durable with the owner's next RaftLog::Sync(); CreateSnapshot / ApplySnapshot
// write their snapshot file durably at once.
//
// Ownership: does not own the RaftLog (shared by all groups of the node; it must
// outlive this object). Thread safety: none; used by the one replication thread.
// Invariants: FirstIndex() - 1 == snapshot_meta().index whenever a snapshot was taken
// or installed (the log is compacted exactly at the snapshot), else FirstIndex() == 1.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "consensus/log_storage.h"
#include "storage/env/env.h"
#include "storage/raftlog/raft_log.h"

namespace ringkv::server::replication {

class RaftLogStorage : public consensus::LogStorage {
 public:
  // Loads the group's meta from `log` (a group the log never saw starts empty, with an
  // empty membership). `snap_dir` holds the snapshot files. Corruption if the meta
  // blob does not decode.
  static Result<std::unique_ptr<RaftLogStorage>> Open(storage::Env* env,
                                                      storage::raftlog::RaftLog* log,
                                                      std::string snap_dir, uint64_t group);

  // consensus::LogStorage.
  Result<consensus::InitialState> GetInitialState() const override;
  Result<std::vector<consensus::Entry>> Entries(uint64_t lo, uint64_t hi,
                                                uint64_t max_bytes) const override;
  Result<uint64_t> Term(uint64_t i) const override;
  uint64_t FirstIndex() const override;
  uint64_t LastIndex() const override;
  // The last snapshot (read from its file the first time, then kept in memory).
  // Busy (temporarily unavailable) if no snapshot was ever taken.
  Result<consensus::Snapshot> GetSnapshot() const override;

  // Buffered writes (durable at the RaftLog's next Sync).
  // Appends entries; a conflicting tail is replaced.
  Status Append(const std::vector<consensus::Entry>& entries);
  Status SetHardState(const consensus::HardState& hs);
  // Records the membership after a conf change was applied.
  Status SetConfState(const consensus::ConfState& cs);

  // Records a snapshot of the state machine at applied index `index` (which must be
  // in the log, or the current snapshot index) with membership `cs`, writes its file
  // durably, then compacts the log up to and including `index`. OutOfRange if `index`
  // is not newer than the current snapshot. The three steps below in one call.
  Status CreateSnapshot(uint64_t index, const consensus::ConfState& cs, std::string data);

  // CreateSnapshot in three steps, so the file write (the slow part: megabytes and an
  // fsync) can run on another thread while this group keeps replicating:
  // - PrepareSnapshot (owner's thread): checks `index` and builds the snapshot;
  // - WritePreparedSnapshot (any thread): writes it durably to a temporary file of
  //   its own (no other call touches that file, and it reads only immutable members);
  // - InstallPreparedSnapshot (owner's thread): renames it into place, compacts the
  //   log and records the meta, or drops it with OutOfRange if a newer snapshot
  //   arrived meanwhile (ApplySnapshot).
  Result<std::shared_ptr<consensus::Snapshot>> PrepareSnapshot(uint64_t index,
                                                               const consensus::ConfState& cs,
                                                               std::string data) const;
  Status WritePreparedSnapshot(const consensus::Snapshot& snap) const;
  // Keeps up to `keep_entries` entries (`keep_bytes` of data) before the snapshot
  // index in the log, so a follower that is only a little behind catches up from
  // the log instead of from the whole snapshot (RaftLog::CompactionPoint).
  Status InstallPreparedSnapshot(std::shared_ptr<consensus::Snapshot> snap,
                                 uint64_t keep_entries = 0, uint64_t keep_bytes = 0);
  // The index of the newest snapshot (0: none yet). FirstIndex() - 1 may be lower:
  // the entries kept for catching up.
  uint64_t SnapshotIndex() const { return snap_meta_.index; }

  // Installs a snapshot received from the leader: writes its file durably, drops the
  // whole log (the snapshot replaces it; the leader sends what follows) and records its
  // meta and membership. OutOfRange ("snapshot out of date") if not newer than ours.
  Status ApplySnapshot(const consensus::Snapshot& snap);

  const consensus::HardState& hard_state() const { return hard_state_; }
  const consensus::ConfState& conf_state() const { return conf_state_; }
  const consensus::SnapshotMeta& snapshot_meta() const { return snap_meta_; }
  uint64_t group() const { return group_; }
  // Path of the snapshot file (exists once a snapshot was taken or installed).
  std::string SnapshotPath() const;
  // Reads the snapshot file (Corruption on a bad checksum; NotFound if absent).
  Status ReadSnapshotFile(consensus::Snapshot* out) const;

 private:
  RaftLogStorage(storage::Env* env, storage::raftlog::RaftLog* log, std::string snap_dir,
                 uint64_t group);
  Status PersistMeta();
  Status WriteSnapshotFile(const consensus::Snapshot& snap);
  // Renames a durably written snapshot file into place and syncs the directory.
  Status PublishSnapshotFile(const std::string& written);
  // Where WritePreparedSnapshot writes (no other call touches this file).
  std::string PreparedSnapshotPath() const;

  storage::Env* const env_;
  storage::raftlog::RaftLog* const log_;  // not owned
  const std::string snap_dir_;
  const uint64_t group_;
  consensus::HardState hard_state_;
  consensus::ConfState conf_state_;
  consensus::SnapshotMeta snap_meta_;  // index 0: no snapshot yet
  // The snapshot's data, loaded lazily from its file (hence mutable).
  mutable std::shared_ptr<const consensus::Snapshot> snapshot_cache_;
};

// The meta blob and snapshot file codecs, exposed for tests.
std::string EncodeGroupMeta(const consensus::HardState& hs, const consensus::ConfState& cs,
                            const consensus::SnapshotMeta& snap);
Status DecodeGroupMeta(std::string_view in, consensus::HardState* hs, consensus::ConfState* cs,
                       consensus::SnapshotMeta* snap);
std::string EncodeSnapshotFile(const consensus::Snapshot& snap);
Status DecodeSnapshotFile(std::string_view in, consensus::Snapshot* snap);

}  // namespace ringkv::server::replication
