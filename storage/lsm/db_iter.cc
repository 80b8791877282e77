#include "storage/lsm/db_iter.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "storage/lsm/internal_key.h"
#include "storage/lsm/merging_iterator.h"

namespace ringkv::storage::lsm {
namespace {

class DbIterator final : public Iterator {
 public:
  DbIterator(IteratorPins pins, std::unique_ptr<InternalIterator> internal, uint64_t sequence,
             SeekBudgetSpent on_budget_spent)
      : pins_(std::move(pins)), internal_(std::move(internal)), sequence_(sequence),
        on_budget_spent_(std::move(on_budget_spent)),
        sampling_(on_budget_spent_ != nullptr && pins_.version != nullptr) {
    if (sampling_) {
      rng_ = 0x9e3779b97f4a7c15ull * (next_seed_.fetch_add(1, std::memory_order_relaxed) + 1);
      bytes_until_sample_ = static_cast<int64_t>(SamplePeriod());
    }
  }

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
    SetSkip(key());
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
      if (sampling_) Sample(k.user_key);
      if (k.sequence <= sequence_ && !(skipping && KeysEqual(k.user_key, skip()))) {
        if (k.type == ValueType::kDeletion) {
          SetSkip(k.user_key);
          skipping = true;
        } else {
          valid_ = true;
          return;
        }
      }
      internal_->Next();
    }
  }

  // skip_ only grows (one copy per entry, no reallocation once warm); skip_len_
  // is the length of the key in it.
  std::string_view skip() const { return std::string_view(skip_.data(), skip_len_); }
  void SetSkip(std::string_view k) {
    if (k.size() > skip_.size()) skip_.resize(std::max(k.size(), 2 * skip_.size()));
    if (!k.empty()) std::memcpy(skip_.data(), k.data(), k.size());
    skip_len_ = k.size();
  }

  // Mean 1 MiB between read samples, uniform in [0, 2 MiB).
  uint64_t SamplePeriod() {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return rng_ % (2u << 20);
  }
  void Sample(std::string_view user_key) {
    const size_t entry_bytes = user_key.size() + kTagBytes + internal_->value().size();
    bytes_until_sample_ -= static_cast<int64_t>(entry_bytes);
    // Bounded: each pass adds a period; a long entry may cover several.
    while (bytes_until_sample_ < 0) {
      bytes_until_sample_ += static_cast<int64_t>(SamplePeriod());
      SeekCharge charge = pins_.version->ReadSample(user_key);
      if (charge.Apply()) on_budget_spent_(charge.file->number);
    }
  }

  static inline std::atomic<uint64_t> next_seed_{0};

  IteratorPins pins_;
  std::unique_ptr<InternalIterator> internal_;
  const uint64_t sequence_;
  SeekBudgetSpent on_budget_spent_;
  const bool sampling_;
  uint64_t rng_ = 0;
  int64_t bytes_until_sample_ = 0;
  std::string skip_;
  size_t skip_len_ = 0;
  bool valid_ = false;
  Status status_;
};

}  // namespace

std::unique_ptr<Iterator> NewDbIterator(IteratorPins pins, TableCache* tables,
                                        uint64_t snapshot_sequence,
                                        SeekBudgetSpent on_budget_spent) {
  std::vector<std::unique_ptr<InternalIterator>> children;
  if (pins.mem) children.push_back(pins.mem->NewIterator());
  if (pins.imm) children.push_back(pins.imm->NewIterator());
  if (pins.version) pins.version->AddIterators(pins.version, tables, /*fill_cache=*/true, &children);
  auto merged = NewMergingIterator(std::move(children));
  return std::make_unique<DbIterator>(std::move(pins), std::move(merged), snapshot_sequence,
                                      std::move(on_budget_spent));
}

}  // namespace ringkv::storage::lsm
