// SnapshotRegistry and SnapshotIterator. See hash_snapshot.h for the mechanism.
#include "storage/hash/hash_snapshot.h"

#include <algorithm>

namespace ringkv::storage::hash {

namespace {
// Rough bookkeeping cost of one saved chain: a std::map node plus the vector.
constexpr uint64_t kSavedNodeBytes = 80;
}  // namespace

// Iterates one SnapshotState. Holds no reference into the table besides the
// entries, which the registry keeps alive while the snapshot is open.
class SnapshotIterator : public Iterator {
 public:
  SnapshotIterator(SnapshotRegistry* registry, SnapshotState* state)
      : registry_(registry), state_(state) {}
  ~SnapshotIterator() override { registry_->Close(state_); }

  bool Valid() const override { return valid_; }
  void SeekToFirst() override {
    status_ = Status::OK();
    next_pos_ = 0;
    Fill();
  }
  void Seek(std::string_view) override {
    valid_ = false;
    status_ = Status::NotSupported("hash snapshot iterator is unordered; use SeekToFirst");
  }
  void Next() override {
    RINGKV_CHECK(valid_);
    if (++chain_idx_ < chain_.size()) {
      current_ = DecodeEntry(chain_[chain_idx_]);
    } else {
      Fill();
    }
  }
  std::string_view key() const override {
    RINGKV_CHECK(valid_);
    return current_.key;
  }
  std::string_view value() const override {
    RINGKV_CHECK(valid_);
    return current_.value;
  }
  Status status() const override { return status_; }

 private:
  // Loads the next non-empty chain at a position >= next_pos_.
  void Fill() {
    chain_.clear();
    chain_idx_ = 0;
    if (state_->detached) {
      auto it = state_->saved.lower_bound(next_pos_);
      while (it != state_->saved.end() && it->second.empty()) ++it;
      if (it != state_->saved.end()) {
        chain_ = it->second;
        next_pos_ = it->first + 1;
      }
    } else {
      const HashTable* table = registry_->table_;
      while (chain_.empty() && next_pos_ < state_->positions) {
        uint64_t pos = next_pos_++;
        auto it = state_->saved.empty() ? state_->saved.end() : state_->saved.find(pos);
        if (it != state_->saved.end()) {
          chain_ = it->second;
          continue;
        }
        table->bucket(pos).ForEach([this](const Entry* e) { chain_.push_back(e); });
      }
    }
    valid_ = !chain_.empty();
    if (valid_) current_ = DecodeEntry(chain_[0]);
  }

  SnapshotRegistry* registry_;
  SnapshotState* state_;
  std::vector<const Entry*> chain_;  // the chain being returned
  size_t chain_idx_ = 0;
  uint64_t next_pos_ = 0;  // next bucket position to load
  bool valid_ = false;
  EntryView current_;
  Status status_;
};

SnapshotRegistry::SnapshotRegistry(HashTable* table) : table_(table) { table_->set_observer(this); }

SnapshotRegistry::~SnapshotRegistry() {
  RINGKV_CHECK_MSG(open_.empty(), "hash engine destroyed with a snapshot iterator still open");
  for (Entry* e : retired_) table_->allocator()->FreeDisowned(e);
  if (table_ != nullptr) table_->set_observer(nullptr);
}

std::unique_ptr<Iterator> SnapshotRegistry::NewIterator() {
  auto state = std::make_unique<SnapshotState>();
  state->positions = table_->bucket_count();
  table_->PinLayout();
  SnapshotState* raw = state.get();
  open_.push_back(std::move(state));
  return std::make_unique<SnapshotIterator>(this, raw);
}

void SnapshotRegistry::SaveChain(SnapshotState* s, uint64_t pos, const Bucket& bucket) {
  std::vector<const Entry*> chain;
  bucket.ForEach([&chain](const Entry* e) { chain.push_back(e); });
  uint64_t bytes = kSavedNodeBytes + chain.size() * sizeof(Entry*);
  s->saved.emplace_hint(s->saved.end(), pos, std::move(chain));
  s->saved_bytes += bytes;
  saved_bytes_ += bytes;
}

void SnapshotRegistry::BeforeMutate(uint64_t index) {
  for (auto& s : open_) {
    if (s->detached) continue;
    // Attached snapshots pin the layout, so it is the one they recorded.
    RINGKV_DCHECK(s->positions == table_->bucket_count());
    if (s->saved.count(index) != 0) continue;
    SaveChain(s.get(), index, table_->bucket(index));
  }
}

void SnapshotRegistry::Retire(Entry* e) {
  table_->allocator()->Disown(e);
  retired_bytes_ += EntryAllocator::SlotBytes(e);
  retired_.push_back(e);
}

void SnapshotRegistry::Detach(SnapshotState* s) {
  if (s->detached) return;
  for (uint64_t pos = 0; pos < s->positions; pos++) {
    const Bucket& bucket = table_->bucket(pos);
    if (bucket.empty() || s->saved.count(pos) != 0) continue;
    SaveChain(s, pos, bucket);
  }
  s->detached = true;
  table_->UnpinLayout();
}

void SnapshotRegistry::DetachAll() {
  for (auto& s : open_) Detach(s.get());
}

void SnapshotRegistry::Rebind(HashTable* table) {
  for (auto& s : open_) RINGKV_CHECK(s->detached);
  if (table_ != nullptr) table_->set_observer(nullptr);
  table_ = table;
  table_->set_observer(this);
}

void SnapshotRegistry::Close(SnapshotState* s) {
  auto it = std::find_if(open_.begin(), open_.end(),
                         [s](const std::unique_ptr<SnapshotState>& p) { return p.get() == s; });
  RINGKV_CHECK(it != open_.end());
  saved_bytes_ -= s->saved_bytes;
  bool attached = !s->detached;
  open_.erase(it);
  if (open_.empty()) {
    // No snapshot can return a retired entry any more.
    for (Entry* e : retired_) table_->allocator()->FreeDisowned(e);
    retired_.clear();
    retired_bytes_ = 0;
  }
  // Unpin last: it may start a postponed resize.
  if (attached) table_->UnpinLayout();
}

}  // namespace ringkv::storage::hash
