#include "consensus/log_storage.h"

namespace ringkv::consensus {

namespace {
constexpr const char* kCompacted = "requested index is unavailable due to compaction";
constexpr const char* kUnavailable = "requested entry at index is unavailable";
}  // namespace

Status CompactedError() { return Status::OutOfRange(kCompacted); }
Status UnavailableError() { return Status::NotFound(kUnavailable); }
Status SnapshotTemporarilyUnavailableError() {
  return Status::Busy("snapshot is temporarily unavailable");
}
bool IsCompacted(const Status& s) { return s.IsOutOfRange() && s.message() == kCompacted; }
bool IsUnavailable(const Status& s) { return s.IsNotFound() && s.message() == kUnavailable; }

MemoryLogStorage::MemoryLogStorage() { ents_.push_back(Entry{}); }

Result<InitialState> MemoryLogStorage::GetInitialState() const {
  return InitialState{hard_state_, snapshot_.meta.conf_state};
}

uint64_t MemoryLogStorage::FirstIndex() const { return ents_[0].index + 1; }
uint64_t MemoryLogStorage::LastIndex() const { return ents_[0].index + ents_.size() - 1; }

Result<std::vector<Entry>> MemoryLogStorage::Entries(uint64_t lo, uint64_t hi,
                                                     uint64_t max_bytes) const {
  uint64_t offset = ents_[0].index;
  if (lo <= offset) return CompactedError();
  if (hi > LastIndex() + 1) return UnavailableError();
  RINGKV_CHECK(lo <= hi);
  std::vector<Entry> out;
  uint64_t size = 0;
  for (uint64_t i = lo; i < hi; ++i) {
    const Entry& e = ents_[i - offset];
    size += EntrySize(e);
    if (!out.empty() && size > max_bytes) break;
    out.push_back(e);
  }
  return out;
}

Result<uint64_t> MemoryLogStorage::Term(uint64_t i) const {
  uint64_t offset = ents_[0].index;
  if (i < offset) return CompactedError();
  if (i - offset >= ents_.size()) return UnavailableError();
  return ents_[i - offset].term;
}

Result<Snapshot> MemoryLogStorage::GetSnapshot() const { return snapshot_; }

Status MemoryLogStorage::ApplySnapshot(const Snapshot& snap) {
  if (snapshot_.meta.index >= snap.meta.index && snapshot_.meta.index != 0) {
    return Status::OutOfRange("snapshot out of date");
  }
  snapshot_ = snap;
  ents_.assign(1, Entry{snap.meta.term, snap.meta.index, EntryType::kNormal, {}});
  return Status::OK();
}

Result<Snapshot> MemoryLogStorage::CreateSnapshot(uint64_t i, const ConfState* cs,
                                                  std::string data) {
  if (i <= snapshot_.meta.index) return Status::OutOfRange("snapshot out of date");
  uint64_t offset = ents_[0].index;
  RINGKV_CHECK(i <= LastIndex());
  snapshot_.meta.index = i;
  snapshot_.meta.term = ents_[i - offset].term;
  if (cs != nullptr) snapshot_.meta.conf_state = *cs;
  snapshot_.data = std::move(data);
  return snapshot_;
}

Status MemoryLogStorage::Compact(uint64_t compact_index) {
  uint64_t offset = ents_[0].index;
  if (compact_index <= offset) return CompactedError();
  RINGKV_CHECK(compact_index <= LastIndex());
  uint64_t k = compact_index - offset;
  std::vector<Entry> rest;
  rest.reserve(ents_.size() - k);
  rest.push_back(Entry{ents_[k].term, ents_[k].index, EntryType::kNormal, {}});
  for (size_t j = k + 1; j < ents_.size(); ++j) rest.push_back(std::move(ents_[j]));
  ents_ = std::move(rest);
  return Status::OK();
}

Status MemoryLogStorage::Append(const std::vector<Entry>& entries) {
  if (entries.empty()) return Status::OK();
  uint64_t first = FirstIndex();
  uint64_t last = entries.back().index;
  if (last < first) return Status::OK();  // all already compacted
  size_t skip = entries.front().index < first ? first - entries.front().index : 0;
  uint64_t start = entries[skip].index;
  if (start > LastIndex() + 1) {
    return Status::InvalidArgument("missing log entries before append");
  }
  uint64_t offset = start - ents_[0].index;
  ents_.resize(offset);  // truncate the conflicting or overlapping tail
  for (size_t j = skip; j < entries.size(); ++j) ents_.push_back(entries[j]);
  return Status::OK();
}

}  // namespace ringkv::consensus
