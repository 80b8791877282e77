// RaftLog: the segmented write-ahead log that stores the Raft entries and hard
// states of MANY groups on one thread, with group commit.
//
// It knows nothing of Raft beyond (group id, index, term, opaque bytes) and an
// opaque hard-state blob per group. Format: log_format.cc.
//
// Writes are buffered: Append, SetHardState, Truncate, Compact and DropGroup
// take effect in memory at once (reads see them) and are encoded into a
// pending buffer; Sync() writes everything pending, from every group, and
// makes it durable with one fdatasync (two, plus a directory sync, when the
// batch crosses into a new segment). Acknowledge nothing before Sync returns.
//
// Reads are served from an in-memory index (per group: first index, and per
// entry its term and location) plus a bounded FIFO cache of recently appended
// entry data; an entry not in the cache is read back from its segment (or the
// pending buffer) and its record checksum verified.
//
// Segments roll at options.segment_bytes. Each new segment starts with a
// checkpoint of every group's hard state and compaction point, so only the
// newest segment is needed for metadata; the oldest segments are deleted (in
// order) once no group has a live entry in them.
//
// Recovery (Open) replays every segment in order, tolerates a torn tail in the
// last segment (the incomplete last record is cut off) and reports any other
// damage as Corruption naming the segment file and byte offset. Replay starts
// from the oldest segment kept, whose opening checkpoint restores every
// group's compaction point; entries that lived in deleted segments become
// placeholders that later records must kill, and a placeholder still live at
// the end is reported as Corruption (a segment went missing).
//
// Thread safety: none. A RaftLog belongs to one loop thread.
//
// Invariants, per group:
//   1. entries hold indexes first_index .. first_index + entries.size() - 1;
//   2. every entry's record is in a segment in segments_ (or pending);
//   3. after any write or sync error the log refuses further writes
//      (the in-memory state may be ahead of the disk); reopen to recover.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/status.h"
#include "storage/env/env.h"
#include "storage/raftlog/log_format.h"

namespace ringkv::storage::raftlog {

struct RaftLogOptions {
  // A segment rolls once it holds this many bytes.
  uint64_t segment_bytes = 64ull << 20;
  // Entry data kept in memory after Append, across all groups.
  uint64_t cache_bytes = 32ull << 20;
};

struct LogEntry {
  uint64_t index = 0;
  uint64_t term = 0;
  std::string data;
  bool operator==(const LogEntry& o) const {
    return index == o.index && term == o.term && data == o.data;
  }
};

struct RaftLogStats {
  uint64_t sync_calls = 0;  // Sync() calls that had something to write
  uint64_t file_syncs = 0;  // fdatasync of segment files
  uint64_t dir_syncs = 0;   // fsync of the log directory
  uint64_t bytes_written = 0;
  uint64_t segments_created = 0;
  uint64_t segments_deleted = 0;
  uint64_t cache_hits = 0;
  uint64_t cache_misses = 0;  // entries read back from a segment
  uint64_t cached_bytes = 0;
  uint64_t torn_bytes_dropped = 0;  // by recovery
};

class RaftLog {
 public:
  // Opens (creating if needed) the log in `dir` and replays it.
  // Corruption (naming segment and offset) for damage other than a torn tail;
  // IOError for I/O failures. `env` must outlive the log.
  static Status Open(Env* env, const std::string& dir, const RaftLogOptions& options,
                     std::unique_ptr<RaftLog>* out);

  RaftLog(const RaftLog&) = delete;
  RaftLog& operator=(const RaftLog&) = delete;
  ~RaftLog();

  // Appends consecutive entries to `group`. If entries[0].index <= LastIndex,
  // the conflicting suffix is truncated first (Raft's overwrite).
  // InvalidArgument if the indexes are not consecutive, start below
  // FirstIndex or past LastIndex + 1, or the batch exceeds 256 MiB.
  Status Append(uint64_t group, const std::vector<LogEntry>& entries);
  // The same, but takes the entries' data into the read cache instead of copying it
  // (`entries` is left valid but unspecified).
  Status Append(uint64_t group, std::vector<LogEntry>&& entries);

  // Replaces the group's hard state.
  Status SetHardState(uint64_t group, std::string_view blob);

  // Drops entries with index >= from_index (a conflict). No-op past the end.
  // InvalidArgument if from_index < FirstIndex (compacted entries are final).
  Status Truncate(uint64_t group, uint64_t from_index);

  // Drops entries with index < before_index (after a snapshot). No-op if
  // before_index <= FirstIndex. If before_index > LastIndex + 1 the log becomes
  // empty and restarts at before_index (a snapshot installed from the leader);
  // `snapshot_term` is then recorded as Term(before_index - 1). When the entry
  // before_index - 1 is in the log its own term is used instead.
  Status Compact(uint64_t group, uint64_t before_index, uint64_t snapshot_term = 0);
  // Where to compact `group` after a snapshot at `upto` while keeping the last
  // entries up to `upto` for followers that are a little behind: the smallest
  // index such that [index, upto] holds at most `keep_entries` entries and
  // `keep_bytes` of entry data (upto + 1 when nothing may be kept). Never below
  // FirstIndex.
  uint64_t CompactionPoint(uint64_t group, uint64_t upto, uint64_t keep_entries,
                           uint64_t keep_bytes) const;

  // Forgets the group (its replica moved away): entries and hard state.
  Status DropGroup(uint64_t group);

  // Writes and makes durable everything buffered. OK without I/O if nothing
  // is pending. On failure the error is sticky (invariant 3).
  Status Sync();
  // Sync split in three, for an owner that waits for the disk on another thread
  // while its own thread keeps reading and buffering:
  //   SyncBegin (owner thread): writes everything pending to the OS (a batch that
  //     fills a segment still syncs that segment here) and sets *owed when a
  //     durable sync is due; if not, the batch is complete and nothing follows.
  //   SyncDurable (any one thread): the fdatasync (and directory sync) owed.
  //   SyncEnd (owner thread) with SyncDurable's status: completes the batch.
  // Between SyncBegin with *owed and SyncEnd the owner may call only the
  // memory-only methods (Append, SetHardState, Truncate, Compact, DropGroup and
  // the reads); their records join the next batch. Sync and SyncBegin are refused
  // (a check) until SyncEnd.
  Status SyncBegin(bool* owed);
  Status SyncDurable();
  Status SyncEnd(Status durable);
  bool HasPending() const { return !pending_.empty(); }

  // Entries [lo, hi) of `group`, stopping before the total data size would
  // exceed max_bytes (but always at least one entry if lo < hi).
  // Error codes match consensus/log_storage.h: OutOfRange if lo < FirstIndex
  // (compacted), NotFound if hi > LastIndex + 1 (unavailable),
  // InvalidArgument if lo > hi, Corruption if a record fails its checksum.
  // Const (it only fills read caches), so it can back consensus' const LogStorage.
  Status Entries(uint64_t group, uint64_t lo, uint64_t hi, uint64_t max_bytes,
                 std::vector<LogEntry>* out) const;

  // The term of entry `index`. Term(FirstIndex - 1) is the compaction term
  // (0 for a log that starts at 1). OutOfRange if compacted away or unknown,
  // NotFound if index > LastIndex (as consensus/log_storage.h expects).
  Result<uint64_t> Term(uint64_t group, uint64_t index) const;

  // For a group never written: FirstIndex 1, LastIndex 0.
  uint64_t FirstIndex(uint64_t group) const;
  uint64_t LastIndex(uint64_t group) const;

  // NotFound if the group never had a hard state.
  Result<std::string> HardState(uint64_t group) const;

  // Every group with entries, a hard state or a compaction point, ascending.
  std::vector<uint64_t> Groups() const;

  // Sequence numbers of the segments on disk or pending, ascending.
  std::vector<uint64_t> Segments() const { return {segments_.begin(), segments_.end()}; }
  const RaftLogStats& stats() const { return stats_; }

 private:
  // Segment sequence numbers start at 1; during replay this marks an entry
  // whose record was in a segment deleted since (it must turn out dead).
  static constexpr uint64_t kMissingSegment = 0;

  struct EntryLoc {
    uint64_t term;
    uint64_t segment;        // sequence number of the segment holding the record
    uint64_t record_offset;  // offset of the record header in that segment
    uint32_t record_size;    // header + payload
    uint32_t data_offset;    // offset of the entry's data from the record start
    uint32_t data_size;
    bool cached;
    std::string data;  // the entry's bytes when cached
  };

  struct GroupState {
    uint64_t first_index = 1;
    uint64_t prev_term = 0;  // term of first_index - 1; 0 = unknown (or none)
    std::deque<EntryLoc> entries;
    bool has_hard_state = false;
    std::string hard_state;
    uint64_t last_index() const { return first_index + entries.size() - 1; }
  };

  // Bytes of one segment not yet handed to the file.
  struct PendingSegment {
    uint64_t seq;
    uint64_t file_offset;  // where `bytes` start in the segment file
    bool is_new;           // the file does not exist yet
    std::string bytes;
  };

  RaftLog(Env* env, std::string dir, const RaftLogOptions& options);

  std::string SegmentPath(uint64_t seq) const;

  // Recovery.
  Status Replay(uint64_t seq, bool is_last);
  Status ReplayRecord(uint64_t seq, uint64_t offset, uint32_t record_size, RecordType type,
                      std::string_view payload);
  // Corruption if a live entry's record was not found (its segment is gone).
  Status CheckNothingMissing() const;

  // Write path: encodes a record into the pending buffer, rolling to a new
  // segment first if the active one is full; returns where it will live.
  void Emit(RecordType type, std::string_view payload, uint64_t* seq, uint64_t* offset);
  void Roll();
  void EmitToActive(RecordType type, std::string_view payload, uint64_t* seq, uint64_t* offset);
  // Writes every pending segment to the OS; syncs only segments that filled.
  Status WritePendingToOs(bool* created);
  void RecyclePending();
  void FinishBatch();  // after a durable batch: recycle buffers, drop old segments
  Status WritePending();
  void DeleteObsoleteSegments();

  // In-memory state changes shared by the write path and replay.
  void ApplyTruncate(GroupState* g, uint64_t from_index);
  void ApplyCompact(GroupState* g, uint64_t before_index, uint64_t prev_term);
  void DropEntry(EntryLoc* loc);

  Status AppendImpl(uint64_t group, std::vector<LogEntry>* entries, bool take_data);

  // Cache.
  void CacheEntry(uint64_t group, uint64_t index, EntryLoc* loc, std::string_view data);
  void CacheEntry(uint64_t group, uint64_t index, EntryLoc* loc, std::string&& data);
  void EvictIfNeeded();

  // Reads a whole record (from the pending buffer or the segment file) and
  // verifies its checksum.
  Status ReadRecord(uint64_t seq, uint64_t offset, uint32_t size, std::string* buf) const;

  const GroupState* FindGroup(uint64_t group) const;

  Env* const env_;
  const std::string dir_;
  const RaftLogOptions options_;

  std::map<uint64_t, GroupState> groups_;
  std::set<uint64_t> segments_;
  uint64_t next_seq_ = 1;
  uint64_t active_seq_ = 0;   // 0 until the first write after Open
  uint64_t active_size_ = 0;  // bytes of the active segment, pending included
  std::unique_ptr<WritableFile> active_file_;
  std::vector<PendingSegment> pending_;
  // Buffers kept across Syncs so their capacity is reused: the pending bytes of the
  // last synced batch (a batch of many groups is large enough that a fresh buffer
  // each round means a fresh mmap and page faults each round) and the payload
  // scratch of Append.
  std::string spare_pending_;
  std::string scratch_payload_;
  // Opened lazily by reads, hence mutable.
  mutable std::map<uint64_t, std::unique_ptr<RandomAccessFile>> readers_;
  Status error_;  // sticky write error
  // Between SyncBegin and SyncEnd: the active segment (and, if it was created in
  // the batch, the directory) still owes its durable sync.
  bool sync_in_flight_ = false;
  bool dir_sync_owed_ = false;

  std::deque<std::pair<uint64_t, uint64_t>> cache_fifo_;  // (group, index), oldest first
  uint64_t cached_entries_ = 0;

  mutable RaftLogStats stats_;  // reads count cache hits and misses
};

}  // namespace ringkv::storage::raftlog
