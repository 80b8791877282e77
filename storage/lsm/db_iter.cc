#include "storage/lsm/db_iter.h"

#include "storage/lsm/internal_key.h"
#include "storage/lsm/merging_iterator.h"

namespace ringkv::storage::lsm {
namespace {

class DbIterator final : public Iterator {
 public:
  DbIterator(IteratorPins pins, std::unique_ptr<InternalIterator> internal, uint64_t sequence)
      : pins_(std::move(pins)), internal_(std::move(internal)), sequence_(sequence) {}

  bool Valid() const override { return valid_; }
  Status status() const override {
    if (!status_.ok()) return status_;
    return internal_->status();
  }
  std::string_view key() const override { return ExtractUserKey(internal_->key()); }
  std::string_view value() const override { return internal_->value(); }

  void SeekToFirst() override {
    internal_->SeekToFirst();
    FindNextUserEntry(false);
  }
  void Seek(std::string_view target) override {
    LookupKey lk(target, sequence_);
    internal_->Seek(lk.internal_key());
    FindNextUserEntry(false);
  }
  void Next() override {
    skip_.assign(key());
    internal_->Next();
    FindNextUserEntry(true);
  }

 private:
  // Advances to the newest visible, non-deleted entry of the next user key.
  // With skipping, entries for user key skip_ (already shown or deleted) are passed over.
  void FindNextUserEntry(bool skipping) {
    valid_ = false;
    // Bounded by the number of entries in the snapshot.
    while (internal_->Valid()) {
      ParsedInternalKey k;
      if (!ParseInternalKey(internal_->key(), &k)) {
        status_ = Status::Corruption("malformed internal key");
        return;
      }
      if (k.sequence <= sequence_ && !(skipping && k.user_key == skip_)) {
        if (k.type == ValueType::kDeletion) {
          skip_.assign(k.user_key);
          skipping = true;
        } else {
          valid_ = true;
          return;
        }
      }
      internal_->Next();
    }
  }

  IteratorPins pins_;
  std::unique_ptr<InternalIterator> internal_;
  const uint64_t sequence_;
  std::string skip_;
  bool valid_ = false;
  Status status_;
};

}  // namespace

std::unique_ptr<Iterator> NewDbIterator(IteratorPins pins, TableCache* tables,
                                        uint64_t snapshot_sequence) {
  std::vector<std::unique_ptr<InternalIterator>> children;
  if (pins.mem) children.push_back(pins.mem->NewIterator());
  if (pins.imm) children.push_back(pins.imm->NewIterator());
  if (pins.version) pins.version->AddIterators(pins.version, tables, /*fill_cache=*/true, &children);
  auto merged = NewMergingIterator(std::move(children));
  return std::make_unique<DbIterator>(std::move(pins), std::move(merged), snapshot_sequence);
}

}  // namespace ringkv::storage::lsm
