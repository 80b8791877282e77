#include "storage/btree/snapshot_store.h"

namespace ringkv::storage::btree {

uint64_t SnapshotStore::Open() {
  epoch_++;
  open_.insert(epoch_);
  return epoch_;
}

void SnapshotStore::Close(uint64_t epoch) {
  auto it = open_.find(epoch);
  if (it != open_.end()) open_.erase(it);
  Collect();
}

void SnapshotStore::Collect() {
  if (open_.empty()) {
    images_.clear();
    saved_epoch_.clear();
    image_bytes_ = 0;
    return;
  }
  // An image tagged t serves snapshots with epoch <= t; drop those older than
  // the oldest open snapshot.
  uint64_t oldest = *open_.begin();
  for (auto it = images_.begin(); it != images_.end();) {
    auto& versions = it->second;
    while (!versions.empty() && versions.begin()->first < oldest) {
      image_bytes_ -= versions.begin()->second->size();
      versions.erase(versions.begin());
    }
    if (versions.empty()) {
      it = images_.erase(it);
    } else {
      ++it;
    }
  }
}

void SnapshotStore::BeforeWrite(uint64_t id, const char* data, size_t page_bytes) {
  if (open_.empty()) return;
  uint64_t& saved = saved_epoch_[id];
  if (saved >= epoch_) return;
  saved = epoch_;
  images_[id][epoch_] = std::make_shared<std::string>(data, page_bytes);
  image_bytes_ += page_bytes;
}

const std::string* SnapshotStore::Find(uint64_t id, uint64_t epoch) const {
  auto it = images_.find(id);
  if (it == images_.end()) return nullptr;
  auto v = it->second.lower_bound(epoch);
  if (v == it->second.end()) return nullptr;
  return v->second.get();
}

}  // namespace ringkv::storage::btree
