#include "tests/sim/sim_disk.h"

namespace ringkv::sim {

using consensus::Entry;
using consensus::HardState;
using consensus::MemoryLogStorage;
using consensus::Snapshot;

void SimDisk::WriteEntries(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  Record r{Kind::kEntries, entries, {}, false, {}, 0};
  records_.push_back(std::move(r));
}

void SimDisk::WriteHardState(const HardState& hs) {
  records_.push_back(Record{Kind::kHardState, {}, hs, false, {}, 0});
}

void SimDisk::WriteSnapshot(const Snapshot& snap, const HardState* hs) {
  HardState at_snapshot;
  if (hs != nullptr) {
    // Entries after the snapshot may not survive a torn write: the commit index stored
    // with the snapshot is the snapshot's own index. The full hard state follows in its
    // own record after the Ready's entries.
    at_snapshot = *hs;
    at_snapshot.commit = snap.meta.index;
  }
  records_.push_back(Record{Kind::kSnapshot, {}, at_snapshot, hs != nullptr, snap, 0});
}

void SimDisk::WriteLocalSnapshot(const Snapshot& snap, uint64_t compact_index) {
  records_.push_back(Record{Kind::kLocalSnapshot, {}, {}, false, snap, compact_index});
}

void SimDisk::Checkpoint(const MemoryLogStorage& storage) {
  RINGKV_CHECK(!HasUnsynced());
  std::vector<Record> image;
  auto snap = storage.GetSnapshot();
  RINGKV_CHECK(snap.ok());
  if (!snap->IsEmpty()) image.push_back(Record{Kind::kSnapshot, {}, {}, false, *snap, 0});
  const uint64_t first = storage.FirstIndex();
  const uint64_t last = storage.LastIndex();
  if (last >= first) {
    auto ents = storage.Entries(first, last + 1, consensus::kNoLimit);
    RINGKV_CHECK(ents.ok());
    image.push_back(Record{Kind::kEntries, std::move(*ents), {}, false, {}, 0});
  }
  image.push_back(Record{Kind::kHardState, {}, storage.hard_state(), false, {}, 0});
  records_ = std::move(image);
  synced_ = records_.size();
}

size_t SimDisk::Crash(SimRng* rng, bool torn) {
  const size_t old_synced = synced_;
  size_t keep = synced_;
  const size_t unsynced = records_.size() - synced_;
  if (torn && unsynced > 0) {
    keep += rng->Uniform(unsynced + 1);
    // The last surviving record may be an entry batch cut in the middle.
    if (keep > synced_ && records_[keep - 1].kind == Kind::kEntries && rng->Chance(0.5)) {
      auto& ents = records_[keep - 1].entries;
      ents.resize(1 + rng->Uniform(ents.size()));
    }
  }
  records_.resize(keep);
  synced_ = keep;
  return keep - old_synced;
}

std::unique_ptr<MemoryLogStorage> SimDisk::Recover() const {
  auto storage = std::make_unique<MemoryLogStorage>();
  for (const Record& r : records_) {
    switch (r.kind) {
      case Kind::kEntries:
        RINGKV_CHECK(storage->Append(r.entries).ok());
        break;
      case Kind::kHardState:
        storage->SetHardState(r.hard_state);
        break;
      case Kind::kSnapshot:
        RINGKV_CHECK(storage->ApplySnapshot(r.snapshot).ok());
        if (r.has_hard_state) storage->SetHardState(r.hard_state);
        break;
      case Kind::kLocalSnapshot: {
        auto s = storage->CreateSnapshot(r.snapshot.meta.index, &r.snapshot.meta.conf_state,
                                         r.snapshot.data);
        RINGKV_CHECK(s.ok());
        if (r.compact_index > storage->FirstIndex()) {
          RINGKV_CHECK(storage->Compact(r.compact_index).ok());
        }
        break;
      }
    }
  }
  return storage;
}

}  // namespace ringkv::sim
