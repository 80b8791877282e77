// LsmEngine: the storage::Engine implementation behind OpenLsmEngine.
//
// WAL record payload (inside log_writer.h framing), format version 1:
//   fixed64 sequence number of the first operation
//   then the WriteBatch encoding (write_batch.h): varint32 count, then per op
//   uint8 type (1 put, 0 delete), length-prefixed key, length-prefixed value
//   (puts only). Operation i gets sequence first + i.
// The framing's record version byte versions this payload too.
//
// Threads and locks. The owner thread (the shard's loop) makes every Engine
// call. At most one background task (flush or compaction) runs at a time, on
// EngineOptions::scheduler or inline on the owner when there is none. mu_
// guards imm_, the version set's current version, the background flags and
// bg_error_. mem_ and wal_ are only touched by the owner thread (swaps also
// take mu_ so readers grabbing a consistent {mem, imm, version} triple under
// mu_ never see a half switch). Owner operations that rewrite the file set
// (Sync, Restore, Clear) first pause background work and wait for it to idle.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "storage/base/scan_cursor.h"
#include "storage/engine.h"
#include "storage/env/env.h"
#include "storage/lsm/block_cache.h"
#include "storage/lsm/db_iter.h"
#include "storage/lsm/log_writer.h"
#include "storage/lsm/memtable.h"
#include "storage/lsm/table_builder.h"
#include "storage/lsm/table_cache.h"
#include "storage/lsm/version_set.h"

namespace ringkv::storage::lsm {

class LsmEngine final : public Engine {
 public:
  explicit LsmEngine(const EngineOptions& options);
  ~LsmEngine() override;

  // Recovers the MANIFEST and WALs; called once by OpenLsmEngine.
  Status Open();

  Status Get(std::string_view key, std::string* value) override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Delete(std::string_view key) override;
  Status Write(const WriteBatch& batch) override;
  // Through a snapshot iterator (memtables and levels merged).
  Status VisitRange(std::string_view start, size_t limit, const ScanVisitor& visit) override;
  Result<uint64_t> ScanCursor(uint64_t cursor, size_t count, const ScanVisitor& visit) override;
  std::unique_ptr<Iterator> NewSnapshotIterator() override;
  Status Restore(Iterator* source, uint64_t applied_index) override;
  Status Clear() override;
  uint64_t applied_index() const override { return applied_index_.load(); }
  void set_applied_index(uint64_t index) override { applied_index_.store(index); }
  Status Sync() override;
  Status WaitForBackgroundWork() override;
  uint64_t ApproximateCount() const override;
  EngineStats Stats() const override;
  std::string_view name() const override { return "lsm"; }

 private:
  // ---- foreground (lsm_engine.cc) ----
  // Appends `ops` (WriteBatch encoding with count) to the WAL and memtable.
  Status WriteOne(ValueType type, std::string_view key, std::string_view value);
  // Appends wal_record_ to the WAL; a failure becomes the sticky bg_error_.
  Status AppendWal();
  Status MakeRoomForWrite();
  // Seals mem_ into imm_ and starts a new memtable (and WAL). REQUIRES: mu_ held, imm_ null.
  Status SwitchMemTable(std::unique_lock<std::mutex>* lock);
  // Creates WAL file `number` and makes its directory entry durable.
  Status NewWal(uint64_t number, std::unique_ptr<LogWriter>* wal);
  IteratorPins Pins() const;
  Status ReplayWal(uint64_t number, MemTable* mem, uint64_t* max_sequence);
  // Replaces the file set with `files` (built by the caller) atomically.
  Status InstallReplacement(std::vector<FileMeta> files, uint64_t applied_index);
  void PauseBackground(std::unique_lock<std::mutex>* lock);
  void ResumeBackground(std::unique_lock<std::mutex>* lock);

  // A read used up a level-0 file's seek budget: asks for the level-0
  // compaction and schedules it.
  void SeekBudgetSpentFor(uint64_t file_number);

  // ---- background (lsm_background.cc) ----
  void MaybeScheduleBackgroundWork(std::unique_lock<std::mutex>* lock);
  void BackgroundCall();
  // One unit of work: flush imm_ or run one compaction. REQUIRES: mu_ held.
  void BackgroundWork(std::unique_lock<std::mutex>* lock);
  bool HasBackgroundWork() const;
  Status FlushImmutable(std::unique_lock<std::mutex>* lock);
  Status RunCompaction(Compaction* c, std::unique_lock<std::mutex>* lock);
  // Writes the memtable's newest version of each key to a new table; meta->file_size
  // is 0 when the memtable was empty (no file written). Called without mu_.
  Status WriteLevel0Table(MemTable* mem, uint64_t number, FileMeta* meta);
  // Removes WALs, tables and MANIFESTs that nothing references. REQUIRES: mu_ held.
  void DeleteObsoleteFiles(std::unique_lock<std::mutex>* lock);

  const EngineOptions options_;
  Env* const env_;
  const std::string dir_;
  BackgroundScheduler* const scheduler_;
  const TableOptions table_options_;
  std::unique_ptr<BlockCache> block_cache_;
  std::unique_ptr<TableCache> table_cache_;
  std::unique_ptr<VersionSet> versions_;

  mutable std::mutex mu_;
  std::condition_variable bg_cv_;  // signalled when background work finishes a unit
  std::shared_ptr<MemTable> mem_;
  std::shared_ptr<MemTable> imm_;          // GUARDED_BY(mu_)
  uint64_t imm_applied_index_ = 0;         // GUARDED_BY(mu_): applied index when imm_ was sealed
  uint64_t imm_next_log_ = 0;              // GUARDED_BY(mu_): first WAL not covered by imm_
  std::atomic<bool> has_imm_{false};       // imm_ != nullptr, readable without mu_
  std::unique_ptr<LogWriter> wal_;         // owner thread
  uint64_t wal_number_ = 0;                // owner thread; 0 = no WAL
  bool bg_scheduled_ = false;              // GUARDED_BY(mu_)
  bool bg_inline_running_ = false;         // GUARDED_BY(mu_)
  int bg_paused_ = 0;                      // GUARDED_BY(mu_)
  bool shutting_down_ = false;             // GUARDED_BY(mu_)
  Status bg_error_;                        // GUARDED_BY(mu_); sticky once set
  std::atomic<bool> bg_failed_{false};     // !bg_error_.ok(), readable without mu_
  // REQUIRES: mu_ held.
  void SetBackgroundError(const Status& s) {
    bg_error_ = s;
    bg_failed_.store(true, std::memory_order_release);
  }
  std::set<uint64_t> pending_outputs_;     // GUARDED_BY(mu_): tables being written
  std::atomic<uint64_t> applied_index_{0};
  std::string wal_record_;                 // owner thread scratch

  // Exact resume points of recent SCAN cursors. Owner thread.
  scan_cursor::ScanResumeRing scan_resumes_;

  // Statistics.
  std::atomic<uint64_t> flushes_{0};
  std::atomic<uint64_t> compactions_{0};
  std::atomic<uint64_t> trivial_moves_{0};
  std::atomic<uint64_t> partial_installs_{0};  // compaction pieces installed before the end
  std::atomic<uint64_t> stalls_{0};
  std::atomic<uint64_t> user_bytes_written_{0};
  std::atomic<uint64_t> disk_bytes_written_{0};
};

}  // namespace ringkv::storage::lsm
