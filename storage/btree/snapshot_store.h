// SnapshotStore: page-level copy-on-write images that give snapshot iterators
// a point-in-time view while writes continue.
//
// Choice: instead of MVCC in the leaves, the tree is versioned per page. A
// snapshot records an epoch number and the root at its creation. While any
// snapshot is open, the first modification (or free) of a page in each epoch
// first saves the page's image tagged with the current epoch. A snapshot with
// epoch s reads page P as the first saved image of P with tag >= s, or the
// live page if there is none: that image is P's content from before its first
// change after the snapshot was taken. Pages freed while a snapshot is open
// are not reused until no snapshot is open (FreeList pending), and overflow
// chains are immutable, so nothing a snapshot can reach is overwritten.
// Cost: one page copy per page first modified per epoch while snapshots are
// open; images no open snapshot needs are dropped when snapshots close.
//
// Owned by one BtreeEngine; not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace ringkv::storage::btree {

class SnapshotStore {
 public:
  // Opens a snapshot and returns its epoch.
  uint64_t Open();
  void Close(uint64_t epoch);
  bool active() const { return !open_.empty(); }
  size_t open_count() const { return open_.size(); }

  // Called before page `id`, whose current image is `data`, is modified or freed.
  void BeforeWrite(uint64_t id, const char* data, size_t page_bytes);
  // The image of `id` as seen by snapshot `epoch`, or nullptr for the live page.
  const std::string* Find(uint64_t id, uint64_t epoch) const;

  size_t image_bytes() const { return image_bytes_; }

 private:
  void Collect();

  uint64_t epoch_ = 0;
  std::multiset<uint64_t> open_;
  std::unordered_map<uint64_t, uint64_t> saved_epoch_;  // page -> epoch of its last image
  // page -> (tag epoch -> image), ascending by tag.
  std::unordered_map<uint64_t, std::map<uint64_t, std::shared_ptr<std::string>>> images_;
  size_t image_bytes_ = 0;
};

}  // namespace ringkv::storage::btree
