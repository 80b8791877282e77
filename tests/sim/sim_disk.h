// SimDisk: the simulated disk of one replica of one Raft group.
//
// The replica writes records (entries, hard states, snapshots) as it handles each
// Ready; they sit in the page cache until Sync() makes them durable. Crash() keeps the
// synced records and, when torn writes are enabled, a random prefix of the unsynced
// ones (the last of which may be cut in the middle of its entries): a power loss keeps
// some of what was written but not synced, in write order, and nothing later.
// Recover() replays the surviving records into a fresh MemoryLogStorage.
//
// Checkpoint() replaces the record list by one image of the current storage, so the
// record list stays short in long runs. REQUIRES for Checkpoint: everything synced.
//
// Owned by the simulated node; not thread-safe.
#pragma once

#include <memory>
#include <vector>

#include "consensus/log_storage.h"
#include "tests/sim/sim_rng.h"

namespace ringkv::sim {

class SimDisk {
 public:
  void WriteEntries(const std::vector<consensus::Entry>& entries);
  void WriteHardState(const consensus::HardState& hs);
  // A snapshot from the leader, written in one record with the hard state of the same
  // Ready (commit set to the snapshot index) when there is one: recovery must never see
  // the snapshot without a commit index that covers it (the core refuses a hard state
  // whose commit is below the snapshot), whatever a torn write keeps.
  void WriteSnapshot(const consensus::Snapshot& snap,
                     const consensus::HardState* hs = nullptr);
  // A snapshot the state machine took itself, plus the compaction that followed it.
  void WriteLocalSnapshot(const consensus::Snapshot& snap, uint64_t compact_index);
  void Sync() { synced_ = records_.size(); }
  bool HasUnsynced() const { return synced_ < records_.size(); }

  // Replaces the records by one synced image of `storage`.
  void Checkpoint(const consensus::MemoryLogStorage& storage);

  // Loses unsynced records (keeping a torn prefix when `torn`). Returns how many
  // unsynced records survived, for traces.
  size_t Crash(SimRng* rng, bool torn);

  // Builds the storage a restarted replica sees.
  std::unique_ptr<consensus::MemoryLogStorage> Recover() const;

 private:
  enum class Kind : uint8_t { kEntries, kHardState, kSnapshot, kLocalSnapshot };
  struct Record {
    Kind kind;
    std::vector<consensus::Entry> entries;
    consensus::HardState hard_state;
    bool has_hard_state = false;  // kSnapshot: hard_state is set
    consensus::Snapshot snapshot;
    uint64_t compact_index = 0;
  };
  std::vector<Record> records_;
  // Invariant: synced_ <= records_.size(); records_[0, synced_) are durable.
  size_t synced_ = 0;
};

}  // namespace ringkv::sim
