#include "storage/raftlog/raft_log.h"

#include <algorithm>
#include <cstring>

#include "storage/base/coding.h"

namespace ringkv::storage::raftlog {
namespace {

std::string Where(uint64_t seq, uint64_t offset) {
  return SegmentFileName(seq) + " offset " + std::to_string(offset);
}

// Entries of one group that may lie in deleted segments and still be
// replayed as placeholders (they must be dead). Legitimate logs stay far below
// this; a larger gap means a damaged record, and would exhaust memory.
constexpr uint64_t kMaxReplayGap = 1u << 24;

bool AllZero(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == 0; });
}

// After a bad record at the start of `rest` in the last segment: true if a
// valid record starts somewhere after it, i.e. the damage is not a torn tail
// but corruption in the middle. Looks at most kScanLimit bytes ahead (more
// than any batch the server writes); only offsets with a plausible length
// get a checksum computed.
bool ValidRecordFollows(std::string_view rest) {
  constexpr size_t kScanLimit = 8 << 20;
  size_t limit = std::min(rest.size(), kScanLimit);
  for (size_t o = 1; o + kRecordHeaderSize <= limit; ++o) {
    std::string_view cand = rest.substr(o);
    uint32_t len = DecodeFixed32(cand.data() + 4);
    if (len > kMaxRecordPayload || cand.size() - kRecordHeaderSize < len) continue;
    RecordType type;
    std::string_view payload;
    if (CheckRecord(cand, &type, &payload).ok()) return true;
  }
  return false;
}

}  // namespace

RaftLog::RaftLog(Env* env, std::string dir, const RaftLogOptions& options)
    : env_(env), dir_(std::move(dir)), options_(options) {}

RaftLog::~RaftLog() {
  if (active_file_) active_file_->Close().IgnoreError();
}

std::string RaftLog::SegmentPath(uint64_t seq) const { return dir_ + "/" + SegmentFileName(seq); }

// ---------------------------------------------------------------- recovery

Status RaftLog::Open(Env* env, const std::string& dir, const RaftLogOptions& options,
                     std::unique_ptr<RaftLog>* out) {
  if (options.segment_bytes < kSegmentHeaderSize + kRecordHeaderSize) {
    return Status::InvalidArgument("segment_bytes too small");
  }
  RINGKV_RETURN_IF_ERROR(env->CreateDir(dir));
  std::vector<std::string> names;
  RINGKV_RETURN_IF_ERROR(env->GetChildren(dir, &names));
  std::vector<uint64_t> seqs;
  for (const std::string& name : names) {
    uint64_t seq;
    if (ParseSegmentFileName(name, &seq)) seqs.push_back(seq);
  }
  std::sort(seqs.begin(), seqs.end());
  for (size_t i = 1; i < seqs.size(); ++i) {
    if (seqs[i] != seqs[i - 1] + 1) {
      return Status::Corruption("raft log " + dir + ": segment " + std::to_string(seqs[i - 1] + 1) +
                                " is missing");
    }
  }
  std::unique_ptr<RaftLog> log(new RaftLog(env, dir, options));
  for (size_t i = 0; i < seqs.size(); ++i) {
    RINGKV_RETURN_IF_ERROR(log->Replay(seqs[i], i + 1 == seqs.size()));
  }
  RINGKV_RETURN_IF_ERROR(log->CheckNothingMissing());
  // A half-created newest segment was removed by Replay; reuse its number so
  // the sequence on disk stays contiguous.
  log->next_seq_ = !log->segments_.empty() ? *log->segments_.rbegin() + 1
                   : seqs.empty()          ? 1
                                           : seqs.back();
  *out = std::move(log);
  return Status::OK();
}

Status RaftLog::Replay(uint64_t seq, bool is_last) {
  const std::string path = SegmentPath(seq);
  std::string data;
  RINGKV_RETURN_IF_ERROR(ReadFileToString(env_, path, &data));
  if (data.size() < kSegmentHeaderSize || (is_last && AllZero(data))) {
    // Only the newest segment can be caught half-created by a crash (short,
    // or allocated but never written: all zeros).
    if (!is_last) return Status::Corruption(Where(seq, 0) + ": short segment header");
    stats_.torn_bytes_dropped += data.size();
    return env_->RemoveFile(path);
  }
  Status st = CheckSegmentHeader(std::string_view(data).substr(0, kSegmentHeaderSize), seq);
  if (!st.ok()) return Status::Corruption(Where(seq, 0) + ": " + st.message());
  segments_.insert(seq);

  uint64_t off = kSegmentHeaderSize;
  while (off < data.size()) {
    std::string_view rest = std::string_view(data).substr(off);
    bool complete = rest.size() >= kRecordHeaderSize;
    uint32_t len = complete ? DecodeFixed32(rest.data() + 4) : 0;
    complete = complete && len <= kMaxRecordPayload && rest.size() - kRecordHeaderSize >= len;
    RecordType type{};
    std::string_view payload;
    Status rec = complete ? CheckRecord(rest, &type, &payload) : Status::Corruption("truncated");
    if (!rec.ok()) {
      // A torn tail: the last record of the last segment, cut short or
      // half-written by a crash (possibly followed by zeros), with no valid
      // record after it. Anything else is corruption of data that was
      // acknowledged, and is reported, never skipped.
      bool torn = is_last && (AllZero(rest) || !ValidRecordFollows(rest));
      if (!torn) {
        return Status::Corruption(Where(seq, off) + ": " +
                                  (complete ? rec.message() : "truncated record"));
      }
      stats_.torn_bytes_dropped += rest.size();
      RINGKV_RETURN_IF_ERROR(env_->TruncateFile(path, off));
      // Make the cut durable before anything is written after it.
      std::unique_ptr<WritableFile> f;
      RINGKV_RETURN_IF_ERROR(env_->NewAppendableFile(path, &f));
      RINGKV_RETURN_IF_ERROR(f->Sync());
      RINGKV_RETURN_IF_ERROR(f->Close());
      break;
    }
    st = ReplayRecord(seq, off, static_cast<uint32_t>(kRecordHeaderSize + len), type, payload);
    if (!st.ok()) return Status::Corruption(Where(seq, off) + ": " + st.message());
    off += kRecordHeaderSize + len;
  }
  return Status::OK();
}

Status RaftLog::CheckNothingMissing() const {
  for (const auto& [group, g] : groups_) {
    for (size_t k = 0; k < g.entries.size(); ++k) {
      if (g.entries[k].segment == kMissingSegment) {
        return Status::Corruption("raft log " + dir_ + ": group " + std::to_string(group) +
                                  " entry " + std::to_string(g.first_index + k) +
                                  " is live but its segment is gone");
      }
    }
  }
  return Status::OK();
}

Status RaftLog::ReplayRecord(uint64_t seq, uint64_t offset, uint32_t record_size, RecordType type,
                             std::string_view payload) {
  uint64_t group = 0;
  switch (type) {
    case RecordType::kEntries: {
      uint64_t first = 0;
      std::vector<EncodedEntry> encoded;
      if (!DecodeEntries(payload, &group, &first, &encoded)) {
        return Status::Corruption("bad entries record");
      }
      GroupState& g = groups_[group];
      // Compaction points are restored exactly (every segment starts with a
      // checkpoint), and Append never writes below one.
      if (first < g.first_index) return Status::Corruption("entries below the compaction point");
      // A gap: the entries in between were written in segments deleted since.
      // They must be dead (a later truncate, compact or drop kills them);
      // FinishReplay reports any that are still live.
      if (first - g.last_index() - 1 > kMaxReplayGap) return Status::Corruption("gap too large");
      while (g.last_index() + 1 < first) {
        g.entries.push_back(EntryLoc{0, kMissingSegment, 0, 0, 0, 0, false, {}});
      }
      ApplyTruncate(&g, first);
      for (const EncodedEntry& e : encoded) {
        g.entries.push_back(EntryLoc{e.term,
                                     seq,
                                     offset,
                                     record_size,
                                     static_cast<uint32_t>(kRecordHeaderSize + e.data_offset),
                                     e.data_size,
                                     false,
                                     {}});
      }
      return Status::OK();
    }
    case RecordType::kHardState: {
      std::string_view blob;
      if (!DecodeHardState(payload, &group, &blob)) return Status::Corruption("bad hard state");
      GroupState& g = groups_[group];
      g.has_hard_state = true;
      g.hard_state.assign(blob.data(), blob.size());
      return Status::OK();
    }
    case RecordType::kTruncate: {
      uint64_t from = 0;
      if (!DecodeTruncate(payload, &group, &from)) return Status::Corruption("bad truncate");
      GroupState& g = groups_[group];
      if (from < g.first_index) return Status::Corruption("truncate below the compaction point");
      ApplyTruncate(&g, from);
      return Status::OK();
    }
    case RecordType::kCompact: {
      uint64_t before = 0, prev_term = 0;
      if (!DecodeCompact(payload, &group, &before, &prev_term)) {
        return Status::Corruption("bad compact");
      }
      ApplyCompact(&groups_[group], before, prev_term);
      return Status::OK();
    }
    case RecordType::kDropGroup: {
      if (!DecodeDropGroup(payload, &group)) return Status::Corruption("bad drop group");
      auto it = groups_.find(group);
      if (it != groups_.end()) {
        for (EntryLoc& loc : it->second.entries) DropEntry(&loc);
        groups_.erase(it);
      }
      return Status::OK();
    }
  }
  return Status::Corruption("unknown record type " + std::to_string(static_cast<int>(type)));
}

// ------------------------------------------------------- in-memory changes

void RaftLog::DropEntry(EntryLoc* loc) {
  if (loc->cached) {
    stats_.cached_bytes -= loc->data.size();
    --cached_entries_;
    loc->cached = false;
    std::string().swap(loc->data);
  }
}

void RaftLog::ApplyTruncate(GroupState* g, uint64_t from_index) {
  while (!g->entries.empty() && g->last_index() >= from_index) {
    DropEntry(&g->entries.back());
    g->entries.pop_back();
  }
}

void RaftLog::ApplyCompact(GroupState* g, uint64_t before_index, uint64_t prev_term) {
  if (before_index <= g->first_index) return;
  while (!g->entries.empty() && g->first_index < before_index) {
    DropEntry(&g->entries.front());
    g->entries.pop_front();
    ++g->first_index;
  }
  // Past the end: the log is empty and restarts at before_index.
  g->first_index = before_index;
  g->prev_term = prev_term;
}

// ----------------------------------------------------------------- cache

void RaftLog::CacheEntry(uint64_t group, uint64_t index, EntryLoc* loc, std::string_view data) {
  loc->cached = true;
  loc->data.assign(data.data(), data.size());
  stats_.cached_bytes += data.size();
  ++cached_entries_;
  cache_fifo_.emplace_back(group, index);
}

void RaftLog::CacheEntry(uint64_t group, uint64_t index, EntryLoc* loc, std::string&& data) {
  loc->cached = true;
  stats_.cached_bytes += data.size();
  loc->data = std::move(data);
  ++cached_entries_;
  cache_fifo_.emplace_back(group, index);
}

void RaftLog::EvictIfNeeded() {
  // FIFO items whose entry has since been dropped are stale; skip them.
  while (stats_.cached_bytes > options_.cache_bytes && !cache_fifo_.empty()) {
    auto [group, index] = cache_fifo_.front();
    cache_fifo_.pop_front();
    auto it = groups_.find(group);
    if (it == groups_.end()) continue;
    GroupState& g = it->second;
    if (index < g.first_index || index > g.last_index()) continue;
    DropEntry(&g.entries[index - g.first_index]);
  }
  // Bound the FIFO itself: stale items pile up under truncation churn.
  if (cache_fifo_.size() > 4 * cached_entries_ + 4096) {
    std::deque<std::pair<uint64_t, uint64_t>> live;
    for (const auto& [group, index] : cache_fifo_) {
      const GroupState* g = FindGroup(group);
      if (g != nullptr && index >= g->first_index && index <= g->last_index() &&
          g->entries[index - g->first_index].cached) {
        live.emplace_back(group, index);
      }
    }
    cache_fifo_.swap(live);
  }
}

// ------------------------------------------------------------ write path

// The largest step by which a segment's zeros run ahead of its data (see
// WritePendingToOs).
constexpr size_t kSegmentGrowBytes = 1 << 20;

void RaftLog::Roll() {
  uint64_t seq = next_seq_++;
  pending_.push_back(PendingSegment{seq, 0, true, EncodeSegmentHeader(seq)});
  active_seq_ = seq;
  active_size_ = kSegmentHeaderSize;
  segments_.insert(seq);
  ++stats_.segments_created;
  // The checkpoint: every group's latest metadata, so no older segment is
  // needed for anything but its entries.
  uint64_t s, o;
  for (const auto& [group, g] : groups_) {
    if (g.has_hard_state)
      EmitToActive(RecordType::kHardState, EncodeHardState(group, g.hard_state), &s, &o);
    if (g.first_index != 1 || g.prev_term != 0) {
      EmitToActive(RecordType::kCompact, EncodeCompact(group, g.first_index, g.prev_term), &s, &o);
    }
  }
}

void RaftLog::EmitToActive(RecordType type, std::string_view payload, uint64_t* seq,
                           uint64_t* offset) {
  if (pending_.empty() || pending_.back().seq != active_seq_) {
    pending_.push_back(PendingSegment{active_seq_, active_size_, false, std::move(spare_pending_)});
    pending_.back().bytes.clear();
    spare_pending_ = std::string();
  }
  *seq = active_seq_;
  *offset = active_size_;
  AppendRecord(&pending_.back().bytes, type, payload);
  active_size_ += kRecordHeaderSize + payload.size();
}

void RaftLog::Emit(RecordType type, std::string_view payload, uint64_t* seq, uint64_t* offset) {
  bool full = active_size_ > kSegmentHeaderSize &&
              active_size_ + kRecordHeaderSize + payload.size() > options_.segment_bytes;
  if (active_seq_ == 0 || full) Roll();
  EmitToActive(type, payload, seq, offset);
}

Status RaftLog::Append(uint64_t group, const std::vector<LogEntry>& entries) {
  // const_cast is safe: AppendImpl only moves data out when take_data is set.
  return AppendImpl(group, const_cast<std::vector<LogEntry>*>(&entries), false);
}

Status RaftLog::Append(uint64_t group, std::vector<LogEntry>&& entries) {
  return AppendImpl(group, &entries, true);
}

Status RaftLog::AppendImpl(uint64_t group, std::vector<LogEntry>* entries_ptr, bool take_data) {
  const std::vector<LogEntry>& entries = *entries_ptr;
  RINGKV_RETURN_IF_ERROR(error_);
  if (entries.empty()) return Status::OK();
  uint64_t bytes = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0 && entries[i].index != entries[i - 1].index + 1) {
      return Status::InvalidArgument("entries not consecutive");
    }
    bytes += entries[i].data.size() + 16;
  }
  if (bytes > kMaxRecordPayload - 32) return Status::InvalidArgument("append batch too large");
  const uint64_t first = entries[0].index;
  const GroupState* existing = FindGroup(group);
  uint64_t first_index = existing ? existing->first_index : 1;
  uint64_t last_index = existing ? existing->last_index() : 0;
  if (first < first_index) {
    return Status::InvalidArgument("append at " + std::to_string(first) + " below first index " +
                                   std::to_string(first_index));
  }
  if (first > last_index + 1) {
    return Status::InvalidArgument("append at " + std::to_string(first) + " leaves a gap after " +
                                   std::to_string(last_index));
  }
  uint64_t seq, off;
  if (first <= last_index) Truncate(group, first).IgnoreError();  // validated above: cannot fail

  std::string& payload = scratch_payload_;
  payload.clear();
  payload.reserve(bytes + 32);
  EncodeEntriesHeader(&payload, group, first, static_cast<uint32_t>(entries.size()));
  std::vector<uint32_t> data_offsets;
  data_offsets.reserve(entries.size());
  for (const LogEntry& e : entries) {
    data_offsets.push_back(AppendEntryToPayload(&payload, e.term, e.data));
  }
  Emit(RecordType::kEntries, payload, &seq, &off);
  GroupState& g = groups_[group];
  const uint32_t record_size = static_cast<uint32_t>(kRecordHeaderSize + payload.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    g.entries.push_back(EntryLoc{entries[i].term,
                                 seq,
                                 off,
                                 record_size,
                                 static_cast<uint32_t>(kRecordHeaderSize + data_offsets[i]),
                                 static_cast<uint32_t>(entries[i].data.size()),
                                 false,
                                 {}});
    if (take_data) {
      CacheEntry(group, entries[i].index, &g.entries.back(), std::move((*entries_ptr)[i].data));
    } else {
      CacheEntry(group, entries[i].index, &g.entries.back(), entries[i].data);
    }
  }
  EvictIfNeeded();
  return Status::OK();
}

Status RaftLog::SetHardState(uint64_t group, std::string_view blob) {
  RINGKV_RETURN_IF_ERROR(error_);
  if (blob.size() > kMaxRecordPayload - 32) return Status::InvalidArgument("hard state too large");
  uint64_t seq, off;
  Emit(RecordType::kHardState, EncodeHardState(group, blob), &seq, &off);
  GroupState& g = groups_[group];
  g.has_hard_state = true;
  g.hard_state.assign(blob.data(), blob.size());
  return Status::OK();
}

Status RaftLog::Truncate(uint64_t group, uint64_t from_index) {
  RINGKV_RETURN_IF_ERROR(error_);
  auto it = groups_.find(group);
  if (it == groups_.end()) return Status::OK();
  GroupState& g = it->second;
  if (from_index < g.first_index) {
    return Status::InvalidArgument("truncate at " + std::to_string(from_index) +
                                   " below first index " + std::to_string(g.first_index));
  }
  if (from_index > g.last_index()) return Status::OK();
  uint64_t seq, off;
  Emit(RecordType::kTruncate, EncodeTruncate(group, from_index), &seq, &off);
  ApplyTruncate(&g, from_index);
  return Status::OK();
}

Status RaftLog::Compact(uint64_t group, uint64_t before_index, uint64_t snapshot_term) {
  RINGKV_RETURN_IF_ERROR(error_);
  const GroupState* existing = FindGroup(group);
  if (existing != nullptr && before_index <= existing->first_index) return Status::OK();
  if (existing == nullptr && before_index <= 1) return Status::OK();
  uint64_t prev_term = snapshot_term;
  if (existing != nullptr && before_index - 1 >= existing->first_index &&
      before_index - 1 <= existing->last_index()) {
    prev_term = existing->entries[before_index - 1 - existing->first_index].term;
  }
  uint64_t seq, off;
  Emit(RecordType::kCompact, EncodeCompact(group, before_index, prev_term), &seq, &off);
  ApplyCompact(&groups_[group], before_index, prev_term);
  return Status::OK();
}

uint64_t RaftLog::CompactionPoint(uint64_t group, uint64_t upto, uint64_t keep_entries,
                                  uint64_t keep_bytes) const {
  const GroupState* g = FindGroup(group);
  if (g == nullptr || g->entries.empty() || upto < g->first_index) return upto + 1;
  upto = std::min(upto, g->last_index());
  uint64_t point = upto + 1;
  uint64_t bytes = 0;
  while (point > g->first_index && upto + 1 - point < keep_entries) {
    bytes += g->entries[point - 1 - g->first_index].data_size;
    if (bytes > keep_bytes) break;
    --point;
  }
  return point;
}

Status RaftLog::DropGroup(uint64_t group) {
  RINGKV_RETURN_IF_ERROR(error_);
  auto it = groups_.find(group);
  if (it == groups_.end()) return Status::OK();
  uint64_t seq, off;
  Emit(RecordType::kDropGroup, EncodeDropGroup(group), &seq, &off);
  it = groups_.find(group);  // Emit may roll, which reads but never changes groups_
  for (EntryLoc& loc : it->second.entries) DropEntry(&loc);
  groups_.erase(it);
  return Status::OK();
}

Status RaftLog::WritePending() {
  bool created = false;
  RINGKV_RETURN_IF_ERROR(WritePendingToOs(&created));
  RINGKV_RETURN_IF_ERROR(active_file_->Sync());
  ++stats_.file_syncs;
  if (created) {
    RINGKV_RETURN_IF_ERROR(env_->SyncDir(dir_));
    ++stats_.dir_syncs;
  }
  return Status::OK();
}

Status RaftLog::WritePendingToOs(bool* created_out) {
  bool created = false;
  for (size_t k = 0; k < pending_.size(); ++k) {
    PendingSegment& ps = pending_[k];
    if (ps.is_new) {
      if (active_file_) {
        // Complete and already synced when the previous batch ended.
        RINGKV_RETURN_IF_ERROR(active_file_->Close());
        active_file_.reset();
      }
      // Zeros ahead of the data: a batch's fdatasync then allocates no blocks.
      // Replay reads a zero tail of the newest segment as its end; Close trims
      // a full segment before the next exists.
      RINGKV_RETURN_IF_ERROR(
          env_->NewPreallocatedWritableFile(SegmentPath(ps.seq), kSegmentGrowBytes, &active_file_));
      created = true;
    }
    RINGKV_CHECK(active_file_ != nullptr && active_file_->Size() == ps.file_offset);
    RINGKV_RETURN_IF_ERROR(active_file_->Append(ps.bytes));
    stats_.bytes_written += ps.bytes.size();
    if (k + 1 < pending_.size()) {
      // A full segment is made durable before the next one exists, so only
      // the newest segment can ever have a torn tail.
      RINGKV_RETURN_IF_ERROR(active_file_->Sync());
      ++stats_.file_syncs;
    }
  }
  *created_out = created;
  return active_file_->Flush();
}

Status RaftLog::Sync() {
  RINGKV_CHECK_MSG(!sync_in_flight_, "RaftLog::Sync during a split sync");
  RINGKV_RETURN_IF_ERROR(error_);
  if (pending_.empty()) return Status::OK();
  ++stats_.sync_calls;
  Status st = WritePending();
  if (!st.ok()) {
    error_ = st;
    return st;
  }
  FinishBatch();
  return Status::OK();
}

Status RaftLog::SyncBegin(bool* owed) {
  RINGKV_CHECK_MSG(!sync_in_flight_, "RaftLog::SyncBegin during a split sync");
  *owed = false;
  RINGKV_RETURN_IF_ERROR(error_);
  if (pending_.empty()) return Status::OK();
  ++stats_.sync_calls;
  bool created = false;
  Status st = WritePendingToOs(&created);
  if (!st.ok()) {
    error_ = st;
    return st;
  }
  // The pending bytes are with the OS now (reads find them in the segment).
  RecyclePending();
  sync_in_flight_ = true;
  dir_sync_owed_ = created;
  *owed = true;
  return Status::OK();
}

Status RaftLog::SyncDurable() {
  RINGKV_CHECK(sync_in_flight_);
  RINGKV_RETURN_IF_ERROR(active_file_->Sync());
  if (dir_sync_owed_) RINGKV_RETURN_IF_ERROR(env_->SyncDir(dir_));
  return Status::OK();
}

Status RaftLog::SyncEnd(Status durable) {
  RINGKV_CHECK(sync_in_flight_);
  sync_in_flight_ = false;
  if (!durable.ok()) {
    error_ = durable;
    return durable;
  }
  ++stats_.file_syncs;
  if (dir_sync_owed_) ++stats_.dir_syncs;
  dir_sync_owed_ = false;
  DeleteObsoleteSegments();
  return Status::OK();
}

void RaftLog::RecyclePending() {
  // Keep the largest buffer for the next batch (clear() keeps its capacity).
  for (PendingSegment& ps : pending_) {
    if (ps.bytes.capacity() > spare_pending_.capacity()) spare_pending_ = std::move(ps.bytes);
  }
  spare_pending_.clear();
  pending_.clear();
}

void RaftLog::FinishBatch() {
  RecyclePending();
  DeleteObsoleteSegments();
}

void RaftLog::DeleteObsoleteSegments() {
  uint64_t needed = active_seq_;
  for (const auto& [group, g] : groups_) {
    if (!g.entries.empty()) needed = std::min(needed, g.entries.front().segment);
  }
  bool removed = false;
  // Oldest first and stop at the first failure, so what remains on disk is
  // always a suffix of the history (recovery requires contiguous segments).
  while (!segments_.empty() && *segments_.begin() < needed) {
    uint64_t seq = *segments_.begin();
    readers_.erase(seq);
    if (!env_->RemoveFile(SegmentPath(seq)).ok()) break;  // retried after the next Sync
    segments_.erase(segments_.begin());
    ++stats_.segments_deleted;
    removed = true;
  }
  if (removed && env_->SyncDir(dir_).ok()) ++stats_.dir_syncs;
}

// ------------------------------------------------------------- read path

const RaftLog::GroupState* RaftLog::FindGroup(uint64_t group) const {
  auto it = groups_.find(group);
  return it == groups_.end() ? nullptr : &it->second;
}

Status RaftLog::ReadRecord(uint64_t seq, uint64_t offset, uint32_t size, std::string* buf) const {
  buf->resize(size);
  bool from_pending = false;
  for (const PendingSegment& ps : pending_) {
    if (ps.seq == seq && offset >= ps.file_offset) {
      RINGKV_CHECK(offset - ps.file_offset + size <= ps.bytes.size());
      buf->assign(ps.bytes, offset - ps.file_offset, size);
      from_pending = true;
      break;
    }
  }
  if (!from_pending) {
    auto it = readers_.find(seq);
    if (it == readers_.end()) {
      std::unique_ptr<RandomAccessFile> f;
      RINGKV_RETURN_IF_ERROR(env_->NewRandomAccessFile(SegmentPath(seq), &f));
      it = readers_.emplace(seq, std::move(f)).first;
    }
    std::string_view got;
    RINGKV_RETURN_IF_ERROR(it->second->Read(offset, size, buf->data(), &got));
    if (got.size() != size) return Status::Corruption(Where(seq, offset) + ": short read");
    if (got.data() != buf->data()) std::memmove(buf->data(), got.data(), size);
  }
  // Pair with the checksum written: verify the bytes just read back.
  RecordType type;
  std::string_view payload;
  Status st = CheckRecord(*buf, &type, &payload);
  if (!st.ok()) return Status::Corruption(Where(seq, offset) + ": " + st.message());
  if (type != RecordType::kEntries) {
    return Status::Corruption(Where(seq, offset) + ": not an entries record");
  }
  return Status::OK();
}

Status RaftLog::Entries(uint64_t group, uint64_t lo, uint64_t hi, uint64_t max_bytes,
                        std::vector<LogEntry>* out) const {
  out->clear();
  const GroupState* g = FindGroup(group);
  const uint64_t first = g ? g->first_index : 1;
  const uint64_t last = g ? g->last_index() : 0;
  if (lo > hi) return Status::InvalidArgument("lo > hi");
  if (lo < first) return Status::OutOfRange("compacted: entry " + std::to_string(lo));
  if (hi > last + 1) {
    return Status::NotFound("unavailable: entry " + std::to_string(hi - 1) + " past last index " +
                            std::to_string(last));
  }
  std::string record;
  uint64_t record_seq = 0, record_offset = UINT64_MAX;
  uint64_t bytes = 0;
  for (uint64_t i = lo; i < hi; ++i) {
    const EntryLoc& loc = g->entries[i - first];
    if (!out->empty() && bytes + loc.data_size > max_bytes) break;
    bytes += loc.data_size;
    LogEntry e;
    e.index = i;
    e.term = loc.term;
    if (loc.cached) {
      ++stats_.cache_hits;
      e.data = loc.data;
    } else {
      ++stats_.cache_misses;
      if (loc.segment != record_seq || loc.record_offset != record_offset) {
        RINGKV_RETURN_IF_ERROR(
            ReadRecord(loc.segment, loc.record_offset, loc.record_size, &record));
        record_seq = loc.segment;
        record_offset = loc.record_offset;
      }
      RINGKV_CHECK(loc.data_offset + loc.data_size <= record.size());
      e.data.assign(record, loc.data_offset, loc.data_size);
    }
    out->push_back(std::move(e));
  }
  return Status::OK();
}

Result<uint64_t> RaftLog::Term(uint64_t group, uint64_t index) const {
  const GroupState* g = FindGroup(group);
  const uint64_t first = g ? g->first_index : 1;
  const uint64_t last = g ? g->last_index() : 0;
  if (index + 1 == first) {
    if (first == 1) return uint64_t{0};
    if (g->prev_term != 0) return g->prev_term;
    return Status::OutOfRange("compacted: term of " + std::to_string(index) + " unknown");
  }
  if (index < first) return Status::OutOfRange("compacted: entry " + std::to_string(index));
  if (index > last) return Status::NotFound("unavailable: entry " + std::to_string(index));
  return g->entries[index - first].term;
}

uint64_t RaftLog::FirstIndex(uint64_t group) const {
  const GroupState* g = FindGroup(group);
  return g ? g->first_index : 1;
}

uint64_t RaftLog::LastIndex(uint64_t group) const {
  const GroupState* g = FindGroup(group);
  return g ? g->last_index() : 0;
}

Result<std::string> RaftLog::HardState(uint64_t group) const {
  const GroupState* g = FindGroup(group);
  if (g == nullptr || !g->has_hard_state) return Status::NotFound("no hard state");
  return g->hard_state;
}

std::vector<uint64_t> RaftLog::Groups() const {
  std::vector<uint64_t> out;
  for (const auto& [group, g] : groups_) out.push_back(group);
  return out;
}

}  // namespace ringkv::storage::raftlog
