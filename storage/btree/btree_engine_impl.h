// BtreeEngine: the storage::Engine over a persistent B+tree.
//
// Files in EngineOptions::dir:
//   pages.db            the page file (page_format.h, node.h, meta.h, ...)
//   wal.log             redo WAL, only with use_wal (wal.h)
//   checkpoint.journal  double-write journal, present only during a checkpoint
//
// Durability design: redo WAL + checkpoints, not copy-on-write.
// A write appends one small CRC-framed logical record to the WAL (one
// fdatasync per commit with sync_wal) and changes pages in the buffer pool
// only. One small sequential sync per commit beats LMDB's COW commit, which
// rewrites and syncs every page on the root-to-leaf path plus the meta page
// (target: fill with one sync per write >= 2x LMDB), and since a dirty page is
// written once per checkpoint however many commits changed it, write
// amplification stays low (target <= 10x) where COW pays >= 4 pages for one
// 100-byte value. A checkpoint (when the pool's dirty pages pass 15/16 of its
// capacity, the WAL passes WalCheckpointBytes(), or on Sync()):
//   0. writes pages allocated since the last checkpoint in place (the durable
//      tree cannot reference them, so they need no journal);
//   1. writes the new free-list chain and the meta page (root, page count,
//      free-list head, applied index, checkpoint LSN, key count) into the
//      other meta slot, together with all dirty pages, into
//      checkpoint.journal, and syncs it;
//   2. writes those pages in place and syncs the page file;
//   3. removes the journal and starts a new WAL at checkpoint LSN + 1.
// Recovery: re-apply a complete journal (the crash hit step 2), take the newer
// meta slot, then replay WAL records after its checkpoint LSN. The pool is
// no-steal (dirty pages never reach disk outside a checkpoint), so the replay
// always starts from a consistent tree. A torn WAL tail is dropped; any other
// damage is reported as Corruption. Without use_wal (under Raft) the Raft log
// is the WAL: Sync() checkpoints and the applied index lives in the meta page.
//
// Write amplification in numbers (16-byte keys, 100-byte values, 4 KiB
// pages): a leaf cell takes 121 bytes with its slot, random inserts leave
// leaves ~69% full, so 1M keys make L ~ 44k leaves (~180 MB). The no-steal
// pool can hold D dirty pages (15/16 of it: 15360 with 64 MiB), and a
// checkpoint must write all of them. k random puts dirty L(1 - e^(-k/L))
// distinct leaves, so one checkpoint comes every k = -L ln(1 - D/L) puts
// (~19k) and writes D pages: 0.81 pages per put, each written in place
// (4 KiB) and to the journal (its image minus the zero gap, ~2.9 KiB), i.e.
// ~5.6 KB per 116-byte put, ~48x, plus the WAL (~1.3x). Only D/L -> 1 (a
// pool about the size of the data) brings this under 10x: then checkpoints
// come from the WAL threshold (2x the pool), and each dirty page is written
// once per up to 2x-pool of WAL instead of once per ~19k puts. (LMDB's
// copy-on-write commit writes the root-to-leaf path, >= 3 pages, per put:
// ~160x measured at 1M keys.)
//
// Reads: Get, Scan, ScanCursor and snapshot iterators read a page from its
// pool frame when it is cached (dirty or clean) and otherwise straight from a
// read-only shared mapping of pages.db (PageFile::Remap/View: verified once
// per page, never inserted into the pool), so the pool holds the pages writes
// touched and the OS page cache holds the rest, as in LMDB. This is sound
// because the pool is no-steal: a page that is not in the pool is exactly its
// disk copy, and a clean frame equals it. Writes still fetch into the pool
// (copying from the mapping on a miss). The mapping is replaced only at the
// end of a checkpoint or open, never while a read holds a pointer into it.
//
// Snapshots: page-level copy-on-write images while a snapshot is open
// (snapshot_store.h). SCAN cursors (storage/base/scan_cursor.h): a cursor names
// the last key a call returned, kept in a ring of recent cursors, and the next
// call resumes at the first key after it, so every key present for the whole
// scan is visited exactly once, whatever splits and merges happen in between;
// a cursor the ring no longer holds (or one from before a restart) resumes at
// its 3-byte key prefix, which may revisit keys but skips none.
//
// Threading: owned by one loop thread like every engine; starts no threads.
// After a write fails midway (I/O error, corruption found while changing the
// tree) the engine keeps that error and fails every later write; reopening
// recovers from the durable state.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "storage/base/scan_cursor.h"
#include "storage/btree/btree.h"
#include "storage/btree/buffer_pool.h"
#include "storage/btree/free_list.h"
#include "storage/btree/meta.h"
#include "storage/btree/page_file.h"
#include "storage/btree/snapshot_store.h"
#include "storage/btree/wal.h"
#include "storage/engine.h"

namespace ringkv::storage::btree {

// A checkpoint is due when the WAL passes max(kWalCheckpointBytes, 2 x the
// pool's bytes). Why scale with the pool: a checkpoint writes at most the
// pool's dirty pages twice (journal + in place), so with this threshold its
// page writes never exceed the WAL bytes they retire (write amplification
// from checkpoints <= ~1 per WAL byte once the data fits the pool), while
// replay after a crash stays bounded by the memory budget the operator chose.
inline constexpr uint64_t kWalCheckpointBytes = 64ull << 20;

class BtreeEngine final : public Engine {
 public:
  static Result<std::unique_ptr<BtreeEngine>> Open(const EngineOptions& options);
  ~BtreeEngine() override;

  Status Get(std::string_view key, std::string* value) override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Delete(std::string_view key) override;
  Status Write(const WriteBatch& batch) override;
  Result<uint64_t> ScanCursor(uint64_t cursor, size_t count, const ScanVisitor& visit) override;
  // Straight from pool frames and the mapping within the call (Btree::Scan): no
  // snapshot, no page or pair copies.
  Status VisitRange(std::string_view start, size_t limit, const ScanVisitor& visit) override;
  std::unique_ptr<Iterator> NewSnapshotIterator() override;
  Status Restore(Iterator* source, uint64_t applied_index) override;
  Status Clear() override;
  uint64_t applied_index() const override { return applied_index_; }
  void set_applied_index(uint64_t index) override { applied_index_ = index; }
  Status Sync() override;
  uint64_t ApproximateCount() const override { return key_count_; }
  EngineStats Stats() const override;
  std::string_view name() const override { return "btree"; }

  // Writes all dirty pages and a new meta (see the file comment).
  Status Checkpoint();
  // Checks every tree invariant (btree.h) and the page accounting; for tests.
  Status Validate();
  // Tests: makes the destructor skip its final checkpoint, so dropping the
  // engine leaves the files as a crash (process kill) at this point would.
  void AbandonOnClose() { abandon_ = true; }

  // For snapshot iterators (btree_iterator.cc).
  Status ReadPageAt(uint64_t snapshot_epoch, uint64_t page_id, std::string* out);
  // Like ReadPageAt without the copy: *data points at the snapshot's saved
  // image or the live page (Btree::ViewPage), valid until the engine changes.
  Status ViewPageAt(uint64_t snapshot_epoch, uint64_t page_id, const char** data, PageRef* pin);
  void ReleaseSnapshot(uint64_t epoch) { snapshots_.Close(epoch); }
  const PageFile& page_file() const { return *file_; }
  uint64_t page_count() const { return free_list_.page_count(); }

 private:
  explicit BtreeEngine(const EngineOptions& options);
  Status Recover();
  Status InitFresh();
  Status ApplyJournalIfAny();
  Status LoadMeta();
  Status ReplayWalIfAny();
  Status ApplyBatch(const WriteBatch& batch);
  Status ApplyPut(std::string_view key, std::string_view value);
  Status ApplyDelete(std::string_view key);
  Status ApplyClear();
  Status LogAndApply(const WriteBatch& batch);
  Status CheckSizes(std::string_view key, size_t value_bytes) const;
  Status MaybeCheckpoint();
  uint64_t WalCheckpointBytes() const {
    return std::max<uint64_t>(kWalCheckpointBytes, 2 * pool_->capacity() * page_bytes_);
  }
  Status Fail(Status s);
  // Maps pages.db again if it grew (PageFile::Remap). Only between operations.
  void RemapPages();

  const EngineOptions options_;
  Env* env_;
  const std::string dir_;
  const size_t page_bytes_;
  std::unique_ptr<PageFile> file_;
  std::unique_ptr<BufferPool> pool_;
  FreeList free_list_;
  SnapshotStore snapshots_;
  std::unique_ptr<Btree> tree_;
  std::unique_ptr<WalWriter> wal_;
  Meta meta_;              // the last durable checkpoint
  uint64_t next_lsn_ = 1;  // Invariant: next_lsn_ - 1 = last LSN applied to the tree
  uint64_t applied_index_ = 0;
  uint64_t key_count_ = 0;
  bool meta_dirty_ = false;  // tree or applied index changed since the last checkpoint
  Status error_;             // sticky write error
  bool abandon_ = false;
  scan_cursor::ScanResumeRing scan_resumes_;  // exact resume points of recent cursors
  // Stats.
  uint64_t user_bytes_written_ = 0;
  uint64_t journal_bytes_ = 0;
  uint64_t wal_bytes_before_ = 0;  // WAL bytes written by rotated-away writers
  uint64_t checkpoints_ = 0;
  uint64_t remap_errors_ = 0;
};

}  // namespace ringkv::storage::btree
