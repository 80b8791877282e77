// Point-in-time snapshots of a HashTable that stay consistent while writes go on.
//
// Mechanism: copy-on-write of buckets (their slots and overflow chain, called
// the bucket's "chain" below), by pointer.
//   - Opening a snapshot records the table's layout (the number of buckets in
//     use) and pins it: while any snapshot is attached, no rehash step runs and no resize
//     starts, so a bucket position means the same chain for the whole snapshot.
//     Inserts still go on (buckets fill past the growth load, onto their
//     overflow chains, until the last snapshot closes, when the postponed
//     resize starts).
//   - Before the table modifies a chain, every attached snapshot that has not yet
//     saved that bucket copies the chain's entry pointers (its state as of the
//     snapshot) into its own `saved` map.
//   - While any snapshot is open, an entry that is overwritten or deleted is not
//     freed and not rewritten in place: it moves to the registry's retired list
//     and is freed when the last snapshot closes.
//   - The iterator walks bucket positions in order and reads, per position, the
//     saved chain if there is one and the live chain otherwise.
// Cost: nothing per key while no snapshot is open. While one is open: one map
// node plus 8 bytes per entry for each bucket modified (about 100 bytes per
// modified bucket), plus every overwritten or deleted entry's bytes, until the
// snapshot closes. No copy of the data is made when the snapshot opens.
//
// Detaching: Clear() and Restore() first detach every snapshot: it saves every
// chain it has not saved yet (O(keys) pointer copies) and unpins the layout, after
// which it reads only its saved map. The old entries are retired, not freed.
//
// Ownership: the registry belongs to the engine and outlives its iterators (the
// engine requires every iterator to be destroyed first). Single-threaded.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "storage/engine.h"
#include "storage/hash/hash_table.h"

namespace ringkv::storage::hash {

// One open snapshot's private state.
struct SnapshotState {
  uint64_t positions = 0;  // the table's bucket_count() when opened
  bool detached = false;
  // Bucket position -> the chain as of the snapshot, for buckets modified since.
  std::map<uint64_t, std::vector<const Entry*>> saved;
  uint64_t saved_bytes = 0;  // estimate of what `saved` holds
};

class SnapshotRegistry : public BucketObserver {
 public:
  // Installs itself as table's observer. table must outlive the registry or be
  // replaced with Rebind first.
  explicit SnapshotRegistry(HashTable* table);
  ~SnapshotRegistry() override;
  SnapshotRegistry(const SnapshotRegistry&) = delete;
  SnapshotRegistry& operator=(const SnapshotRegistry&) = delete;

  // A new point-in-time iterator. Caller owns it; it must be destroyed before the
  // registry. Iteration order is bucket order (unspecified); Seek is NotSupported.
  std::unique_ptr<Iterator> NewIterator();

  // Makes every open snapshot independent of the table (see header comment).
  void DetachAll();

  // Points the registry at a new table. REQUIRES: every snapshot detached.
  void Rebind(HashTable* table);

  size_t open_count() const { return open_.size(); }
  uint64_t retired_entries() const { return retired_.size(); }
  // Retired entry bytes plus an estimate of the saved chains' bookkeeping.
  uint64_t memory_bytes() const { return retired_bytes_ + saved_bytes_; }

  // BucketObserver.
  void BeforeMutate(uint64_t index) override;
  bool KeepRemoved() const override { return !open_.empty(); }
  void Retire(Entry* e) override;

 private:
  friend class SnapshotIterator;

  void Close(SnapshotState* s);
  void Detach(SnapshotState* s);
  // Saves the entries of `bucket` (position pos) as s's view of it.
  void SaveChain(SnapshotState* s, uint64_t pos, const Bucket& bucket);

  HashTable* table_;
  std::vector<std::unique_ptr<SnapshotState>> open_;
  std::vector<Entry*> retired_;
  uint64_t retired_bytes_ = 0;
  uint64_t saved_bytes_ = 0;
};

}  // namespace ringkv::storage::hash
