#include "consensus/raft_log.h"

#include <algorithm>

namespace ringkv::consensus {

RaftLog::RaftLog(LogStorage* storage, uint64_t max_committed_size_per_ready)
    : storage_(storage), max_committed_size_per_ready_(max_committed_size_per_ready) {
  uint64_t first = storage_->FirstIndex();
  uint64_t last = storage_->LastIndex();
  unstable_offset_ = last + 1;
  // Everything up to the snapshot is committed and applied.
  committed_ = first - 1;
  applied_ = first - 1;
}

uint64_t RaftLog::FirstIndex() const {
  if (unstable_snapshot_) return unstable_snapshot_->meta.index + 1;
  return storage_->FirstIndex();
}

uint64_t RaftLog::LastIndex() const {
  if (!unstable_.empty()) return unstable_offset_ + unstable_.size() - 1;
  if (unstable_snapshot_) return unstable_snapshot_->meta.index;
  return storage_->LastIndex();
}

uint64_t RaftLog::LastTerm() const {
  auto t = Term(LastIndex());
  RINGKV_CHECK_MSG(t.ok(), "term of last index unavailable");
  return *t;
}

std::optional<uint64_t> RaftLog::UnstableMaybeTerm(uint64_t i) const {
  if (i < unstable_offset_) {
    if (unstable_snapshot_ && unstable_snapshot_->meta.index == i) {
      return unstable_snapshot_->meta.term;
    }
    return std::nullopt;
  }
  uint64_t last = unstable_.empty() ? 0 : unstable_offset_ + unstable_.size() - 1;
  if (unstable_.empty() || i > last) return std::nullopt;
  return unstable_[i - unstable_offset_].term;
}

Result<uint64_t> RaftLog::Term(uint64_t i) const {
  // Valid range is [FirstIndex()-1, LastIndex()].
  uint64_t dummy = FirstIndex() - 1;
  if (i < dummy) return CompactedError();
  if (i > LastIndex()) return uint64_t{0};
  if (auto t = UnstableMaybeTerm(i)) return *t;
  auto t = storage_->Term(i);
  if (t.ok()) return *t;
  if (IsUnavailable(t.status())) return uint64_t{0};
  return t.status();
}

uint64_t RaftLog::TermOrZero(uint64_t i) const {
  auto t = Term(i);
  return t.ok() ? *t : 0;
}

bool RaftLog::MatchTerm(uint64_t i, uint64_t term) const {
  auto t = Term(i);
  return t.ok() && *t == term;
}

bool RaftLog::IsUpToDate(uint64_t last_index, uint64_t last_term) const {
#if RINGKV_RAFT_BUG == 2
  (void)last_index;
  (void)last_term;
  return true;  // deliberate bug: skip the §5.4.1 election restriction
#else
  uint64_t our_term = LastTerm();
  return last_term > our_term || (last_term == our_term && last_index >= LastIndex());
#endif
}

std::optional<uint64_t> RaftLog::MaybeAppend(uint64_t index, uint64_t log_term,
                                             uint64_t committed, const std::vector<Entry>& ents) {
  if (!MatchTerm(index, log_term)) return std::nullopt;
  uint64_t last_new = index + ents.size();
  uint64_t ci = FindConflict(ents);
  if (ci != 0) {
    RINGKV_CHECK_MSG(ci > committed_, "entry conflicts with a committed entry");
    std::vector<Entry> rest(ents.begin() + static_cast<ptrdiff_t>(ci - index - 1), ents.end());
#if RINGKV_RAFT_BUG == 3
    // Deliberate bug: only append entries past our last index and never
    // truncate a conflicting tail (violates Log Matching, §5.3).
    if (ci <= LastIndex()) {
      std::vector<Entry> tail;
      for (const auto& e : rest) {
        if (e.index > LastIndex()) tail.push_back(e);
      }
      rest = std::move(tail);
      last_new = std::min(last_new, LastIndex() + rest.size());
    }
    if (!rest.empty()) Append(rest);
#else
    Append(rest);
#endif
  }
  CommitTo(std::min(committed, last_new));
  return last_new;
}

uint64_t RaftLog::Append(const std::vector<Entry>& ents) {
  if (ents.empty()) return LastIndex();
  RINGKV_CHECK_MSG(ents[0].index > committed_, "append would overwrite committed entries");
  TruncateAndAppendUnstable(ents);
  return LastIndex();
}

void RaftLog::TruncateAndAppendUnstable(const std::vector<Entry>& ents) {
  uint64_t after = ents[0].index;
  if (after == unstable_offset_ + unstable_.size()) {
    unstable_.insert(unstable_.end(), ents.begin(), ents.end());
  } else if (after <= unstable_offset_) {
    // Replaces all unstable entries (and part of the stable log, which the
    // owner overwrites when it persists these).
    unstable_offset_ = after;
    unstable_ = ents;
  } else {
    unstable_.resize(after - unstable_offset_);
    unstable_.insert(unstable_.end(), ents.begin(), ents.end());
  }
}

uint64_t RaftLog::FindConflict(const std::vector<Entry>& ents) const {
  for (const auto& e : ents) {
    if (!MatchTerm(e.index, e.term)) return e.index;
  }
  return 0;
}

std::pair<uint64_t, uint64_t> RaftLog::FindConflictByTerm(uint64_t index, uint64_t term) const {
  uint64_t i = std::min(index, LastIndex());
  // Bounded by the log length: each step moves one index down.
  for (;; --i) {
    auto t = Term(i);
    if (!t.ok()) return {i, 0};
    if (*t <= term) return {i, *t};
    if (i == 0) return {0, 0};
  }
}

Result<std::vector<Entry>> RaftLog::Slice(uint64_t lo, uint64_t hi, uint64_t max_bytes) const {
  RINGKV_CHECK(lo <= hi);
  if (lo < FirstIndex()) return CompactedError();
  RINGKV_CHECK_MSG(hi <= LastIndex() + 1, "slice out of bound");
  std::vector<Entry> out;
  if (lo == hi) return out;
  uint64_t size = 0;
  if (lo < unstable_offset_) {
    uint64_t shi = std::min(hi, unstable_offset_);
    auto stored = storage_->Entries(lo, shi, max_bytes);
    if (!stored.ok()) {
      if (IsCompacted(stored.status())) return stored.status();
      RINGKV_CHECK_MSG(false, "entries unavailable from storage");
    }
    out = std::move(*stored);
    for (const auto& e : out) size += EntrySize(e);
    // Storage truncated due to the byte limit: stop here.
    if (out.size() < shi - lo) return out;
  }
  for (uint64_t i = std::max(lo, unstable_offset_); i < hi; ++i) {
    const Entry& e = unstable_[i - unstable_offset_];
    size += EntrySize(e);
    if (!out.empty() && size > max_bytes) break;
    out.push_back(e);
  }
  return out;
}

Result<std::vector<Entry>> RaftLog::EntriesFrom(uint64_t i, uint64_t max_bytes) const {
  if (i > LastIndex()) return std::vector<Entry>{};
  return Slice(i, LastIndex() + 1, max_bytes);
}

bool RaftLog::MaybeCommit(uint64_t max_index, uint64_t term) {
#if RINGKV_RAFT_BUG == 1
  (void)term;  // deliberate bug: commit entries of previous terms by counting (§5.4.2)
  if (max_index > committed_) {
#else
  if (max_index > committed_ && TermOrZero(max_index) == term) {
#endif
    CommitTo(max_index);
    return true;
  }
  return false;
}

void RaftLog::CommitTo(uint64_t to) {
  if (to <= committed_) return;  // never decrease commit
  RINGKV_CHECK_MSG(to <= LastIndex(), "commit index beyond last index (log corrupted?)");
  committed_ = to;
}

void RaftLog::AppliedTo(uint64_t i) {
  if (i == 0) return;
  RINGKV_CHECK(i <= committed_ && i >= applied_);
  applied_ = i;
}

bool RaftLog::HasNextCommittedEnts() const {
  uint64_t off = std::max(std::max(applied_, applying_) + 1, FirstIndex());
  return committed_ + 1 > off;
}

std::vector<Entry> RaftLog::NextCommittedEnts() const {
  uint64_t off = std::max(std::max(applied_, applying_) + 1, FirstIndex());
  if (committed_ + 1 <= off) return {};
  auto ents = Slice(off, committed_ + 1, max_committed_size_per_ready_);
  RINGKV_CHECK_MSG(ents.ok(), "committed entries unavailable");
  return std::move(*ents);
}

void RaftLog::StableTo(uint64_t i, uint64_t t) {
  auto gt = UnstableMaybeTerm(i);
  // Only if the entry is still the one we handed out (not overwritten since).
  if (gt && *gt == t && i >= unstable_offset_) {
    unstable_.erase(unstable_.begin(), unstable_.begin() + static_cast<ptrdiff_t>(i + 1 - unstable_offset_));
    unstable_offset_ = i + 1;
  }
}

void RaftLog::StableSnapTo(uint64_t i) {
  if (unstable_snapshot_ && unstable_snapshot_->meta.index == i) unstable_snapshot_.reset();
}

void RaftLog::Restore(const Snapshot& snap) {
  committed_ = snap.meta.index;
  unstable_offset_ = snap.meta.index + 1;
  unstable_.clear();
  unstable_snapshot_ = snap;
}

Result<Snapshot> RaftLog::GetSnapshot() const {
  if (unstable_snapshot_) return *unstable_snapshot_;
  return storage_->GetSnapshot();
}

}  // namespace ringkv::consensus
