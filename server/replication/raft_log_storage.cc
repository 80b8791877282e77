// RaftLogStorage over the shared RaftLog. On-disk formats written here:
//
// Entry record data (inside a RaftLog entry record, which keeps index and term):
//   byte   entry type (consensus::EntryType: 0 normal, 1 conf change)
//   bytes  the entry's data (rest of the record)
//
// Group meta (the group's RaftLog hard-state blob), version 1:
//   byte     version = 1
//   varint64 hard_state.term, varint64 hard_state.vote, varint64 hard_state.commit
//   varint64 snapshot index, varint64 snapshot term   (0, 0: no snapshot yet)
//   lp       EncodeConfState(current membership)      (lp = varint32 length + bytes)
//
// Snapshot file `<snap_dir>/snap-<group>` (written as `.tmp`, synced, renamed, dir synced):
//   4 bytes  magic "RKSN"
//   byte     version = 1
//   fixed64  snapshot index, fixed64 snapshot term
//   lp       EncodeConfState(membership at the snapshot)
//   fixed64  data length, then the data bytes
//   fixed32  masked CRC32C of every byte above
#include "server/replication/raft_log_storage.h"

#include "storage/base/coding.h"
#include "storage/base/crc32c.h"

namespace ringkv::server::replication {

using consensus::ConfState;
using consensus::Entry;
using consensus::EntryType;
using consensus::HardState;
using consensus::Snapshot;
using consensus::SnapshotMeta;

namespace {
constexpr uint8_t kMetaVersion = 1;

// The RaftLog reports compacted / past-the-end with the right codes but its own
// messages; the core recognises the errors by consensus' exact statuses.
Status ToConsensusError(const Status& s) {
  if (s.IsOutOfRange()) return consensus::CompactedError();
  if (s.IsNotFound()) return consensus::UnavailableError();
  return s;
}

constexpr uint8_t kSnapVersion = 1;
constexpr char kSnapMagic[4] = {'R', 'K', 'S', 'N'};
}  // namespace

std::string EncodeGroupMeta(const HardState& hs, const ConfState& cs, const SnapshotMeta& snap) {
  std::string out;
  out.push_back(static_cast<char>(kMetaVersion));
  PutVarint64(&out, hs.term);
  PutVarint64(&out, hs.vote);
  PutVarint64(&out, hs.commit);
  PutVarint64(&out, snap.index);
  PutVarint64(&out, snap.term);
  std::string c;
  consensus::EncodeConfState(cs, &c);
  PutLengthPrefixed(&out, c);
  return out;
}

Status DecodeGroupMeta(std::string_view in, HardState* hs, ConfState* cs, SnapshotMeta* snap) {
  if (in.empty() || static_cast<uint8_t>(in[0]) != kMetaVersion) {
    return Status::Corruption("group meta: bad version");
  }
  in.remove_prefix(1);
  std::string_view c;
  if (!GetVarint64(&in, &hs->term) || !GetVarint64(&in, &hs->vote) ||
      !GetVarint64(&in, &hs->commit) || !GetVarint64(&in, &snap->index) ||
      !GetVarint64(&in, &snap->term) || !GetLengthPrefixed(&in, &c) || !in.empty()) {
    return Status::Corruption("group meta: truncated");
  }
  return consensus::DecodeConfState(c, cs);
}

namespace {

// A snapshot file is head, then the data, then the masked crc32c of both.
std::string SnapshotFileHead(const Snapshot& snap) {
  std::string head(kSnapMagic, 4);
  head.push_back(static_cast<char>(kSnapVersion));
  PutFixed64(&head, snap.meta.index);
  PutFixed64(&head, snap.meta.term);
  std::string c;
  consensus::EncodeConfState(snap.meta.conf_state, &c);
  PutLengthPrefixed(&head, c);
  PutFixed64(&head, snap.data.size());
  return head;
}

std::string SnapshotFileTail(std::string_view head, std::string_view data) {
  std::string tail;
  PutFixed32(&tail, crc32c::Mask(crc32c::Extend(crc32c::Value(head), data.data(), data.size())));
  return tail;
}

// The data (a shard's megabytes) goes to the file as it is, between its head
// and its checksum, without a whole encoded copy in between.
Status WriteSnapshotTo(storage::Env* env, const Snapshot& snap, const std::string& path) {
  const std::string head = SnapshotFileHead(snap);
  return storage::WriteStringsToFile(env, {head, snap.data, SnapshotFileTail(head, snap.data)},
                                     path, true);
}

}  // namespace

std::string EncodeSnapshotFile(const Snapshot& snap) {
  std::string out = SnapshotFileHead(snap);
  const size_t head_size = out.size();
  out.append(snap.data);
  out.append(SnapshotFileTail(std::string_view(out).substr(0, head_size), snap.data));
  return out;
}

Status DecodeSnapshotFile(std::string_view in, Snapshot* snap) {
  if (in.size() < 4 + 1 + 4 || in.substr(0, 4) != std::string_view(kSnapMagic, 4)) {
    return Status::Corruption("snapshot file: bad magic");
  }
  const uint32_t stored = DecodeFixed32(in.data() + in.size() - 4);
  if (crc32c::Unmask(stored) != crc32c::Value(in.data(), in.size() - 4)) {
    return Status::Corruption("snapshot file: checksum mismatch");
  }
  in = in.substr(0, in.size() - 4);
  in.remove_prefix(4);
  if (static_cast<uint8_t>(in[0]) != kSnapVersion) {
    return Status::Corruption("snapshot file: unknown version");
  }
  in.remove_prefix(1);
  std::string_view c;
  uint64_t len = 0;
  if (!GetFixed64(&in, &snap->meta.index) || !GetFixed64(&in, &snap->meta.term) ||
      !GetLengthPrefixed(&in, &c) || !GetFixed64(&in, &len) || in.size() != len) {
    return Status::Corruption("snapshot file: truncated");
  }
  snap->data.assign(in.data(), in.size());
  return consensus::DecodeConfState(c, &snap->meta.conf_state);
}

RaftLogStorage::RaftLogStorage(storage::Env* env, storage::raftlog::RaftLog* log,
                               std::string snap_dir, uint64_t group)
    : env_(env), log_(log), snap_dir_(std::move(snap_dir)), group_(group) {}

Result<std::unique_ptr<RaftLogStorage>> RaftLogStorage::Open(storage::Env* env,
                                                             storage::raftlog::RaftLog* log,
                                                             std::string snap_dir,
                                                             uint64_t group) {
  std::unique_ptr<RaftLogStorage> s(new RaftLogStorage(env, log, std::move(snap_dir), group));
  auto blob = log->HardState(group);
  if (blob.ok()) {
    RINGKV_RETURN_IF_ERROR(DecodeGroupMeta(*blob, &s->hard_state_, &s->conf_state_,
                                           &s->snap_meta_));
    s->snap_meta_.conf_state = s->conf_state_;  // refined when the file is read
  } else if (!blob.status().IsNotFound()) {
    return blob.status();
  }
  return s;
}

std::string RaftLogStorage::SnapshotPath() const {
  return snap_dir_ + "/snap-" + std::to_string(group_);
}

Result<consensus::InitialState> RaftLogStorage::GetInitialState() const {
  consensus::InitialState st;
  st.hard_state = hard_state_;
  st.conf_state = conf_state_;
  return st;
}

Result<std::vector<Entry>> RaftLogStorage::Entries(uint64_t lo, uint64_t hi,
                                                   uint64_t max_bytes) const {
  std::vector<storage::raftlog::LogEntry> raw;
  Status st = log_->Entries(group_, lo, hi, max_bytes, &raw);
  if (!st.ok()) return ToConsensusError(st);
  std::vector<Entry> out;
  out.reserve(raw.size());
  for (auto& r : raw) {
    if (r.data.empty() || static_cast<uint8_t>(r.data[0]) > 1) {
      return Status::Corruption("raft entry record: bad type byte");
    }
    Entry e;
    e.index = r.index;
    e.term = r.term;
    e.type = static_cast<EntryType>(r.data[0]);
    e.data.assign(r.data, 1);
    out.push_back(std::move(e));
  }
  return out;
}

Result<uint64_t> RaftLogStorage::Term(uint64_t i) const {
  auto t = log_->Term(group_, i);
  if (!t.ok()) return ToConsensusError(t.status());
  return t;
}
uint64_t RaftLogStorage::FirstIndex() const { return log_->FirstIndex(group_); }
uint64_t RaftLogStorage::LastIndex() const { return log_->LastIndex(group_); }

Status RaftLogStorage::ReadSnapshotFile(Snapshot* out) const {
  const std::string path = SnapshotPath();
  if (!env_->FileExists(path)) return Status::NotFound(path);
  std::string bytes;
  RINGKV_RETURN_IF_ERROR(storage::ReadFileToString(env_, path, &bytes));
  return DecodeSnapshotFile(bytes, out);
}

Result<Snapshot> RaftLogStorage::GetSnapshot() const {
  if (snap_meta_.index == 0) return consensus::SnapshotTemporarilyUnavailableError();
  if (!snapshot_cache_ || snapshot_cache_->meta.index < snap_meta_.index) {
    auto snap = std::make_shared<Snapshot>();
    Status s = ReadSnapshotFile(snap.get());
    if (!s.ok()) return s;
    // A crash between the file's rename and the log compaction leaves a file newer
    // than the meta; it is still a valid image (everything it covers was committed).
    if (snap->meta.index < snap_meta_.index) {
      return Status::Corruption("snapshot file older than the log's compaction point");
    }
    snapshot_cache_ = std::move(snap);
  }
  return *snapshot_cache_;
}

Status RaftLogStorage::Append(const std::vector<Entry>& entries) {
  if (entries.empty()) return Status::OK();
  std::vector<storage::raftlog::LogEntry> raw;
  raw.reserve(entries.size());
  const uint64_t first = FirstIndex();
  for (const Entry& e : entries) {
    if (e.index < first) continue;  // already covered by the snapshot
    storage::raftlog::LogEntry r;
    r.index = e.index;
    r.term = e.term;
    r.data.reserve(e.data.size() + 1);
    r.data.push_back(static_cast<char>(e.type));
    r.data.append(e.data);
    raw.push_back(std::move(r));
  }
  if (raw.empty()) return Status::OK();
  return log_->Append(group_, raw);
}

Status RaftLogStorage::PersistMeta() {
  return log_->SetHardState(group_, EncodeGroupMeta(hard_state_, conf_state_, snap_meta_));
}

Status RaftLogStorage::SetHardState(const HardState& hs) {
  hard_state_ = hs;
  return PersistMeta();
}

Status RaftLogStorage::SetConfState(const ConfState& cs) {
  conf_state_ = cs;
  return PersistMeta();
}

Status RaftLogStorage::WriteSnapshotFile(const Snapshot& snap) {
  const std::string tmp = SnapshotPath() + ".tmp";
  RINGKV_RETURN_IF_ERROR(WriteSnapshotTo(env_, snap, tmp));
  return PublishSnapshotFile(tmp);
}

Status RaftLogStorage::PublishSnapshotFile(const std::string& written) {
  RINGKV_RETURN_IF_ERROR(env_->RenameFile(written, SnapshotPath()));
  return env_->SyncDir(snap_dir_);
}

std::string RaftLogStorage::PreparedSnapshotPath() const { return SnapshotPath() + ".bg"; }

Status RaftLogStorage::CreateSnapshot(uint64_t index, const ConfState& cs, std::string data) {
  auto snap = PrepareSnapshot(index, cs, std::move(data));
  if (!snap.ok()) return snap.status();
  RINGKV_RETURN_IF_ERROR(WritePreparedSnapshot(**snap));
  return InstallPreparedSnapshot(std::move(snap.value()));
}

Result<std::shared_ptr<Snapshot>> RaftLogStorage::PrepareSnapshot(uint64_t index,
                                                                   const ConfState& cs,
                                                                   std::string data) const {
  if (index <= snap_meta_.index) return Status::OutOfRange("snapshot out of date");
  auto term = Term(index);
  if (!term.ok()) return term.status();
  auto snap = std::make_shared<Snapshot>();
  snap->meta.index = index;
  snap->meta.term = *term;
  snap->meta.conf_state = cs;
  snap->data = std::move(data);
  return snap;
}

Status RaftLogStorage::WritePreparedSnapshot(const Snapshot& snap) const {
  return WriteSnapshotTo(env_, snap, PreparedSnapshotPath());
}

Status RaftLogStorage::InstallPreparedSnapshot(std::shared_ptr<Snapshot> snap,
                                               uint64_t keep_entries, uint64_t keep_bytes) {
  if (snap->meta.index <= snap_meta_.index) {
    env_->RemoveFile(PreparedSnapshotPath()).IgnoreError();
    return Status::OutOfRange("snapshot out of date");
  }
  RINGKV_RETURN_IF_ERROR(PublishSnapshotFile(PreparedSnapshotPath()));
  RINGKV_RETURN_IF_ERROR(log_->Compact(
      group_, log_->CompactionPoint(group_, snap->meta.index, keep_entries, keep_bytes)));
  snap_meta_ = snap->meta;
  snapshot_cache_ = std::move(snap);
  return PersistMeta();
}

Status RaftLogStorage::ApplySnapshot(const Snapshot& snap) {
  if (snap.meta.index <= snap_meta_.index) return Status::OutOfRange("snapshot out of date");
  RINGKV_RETURN_IF_ERROR(WriteSnapshotFile(snap));
  // The snapshot replaces the whole log: cut everything from its index on (entries
  // there may belong to another term), then restart the log after it.
  if (LastIndex() >= snap.meta.index && snap.meta.index >= FirstIndex()) {
    RINGKV_RETURN_IF_ERROR(log_->Truncate(group_, snap.meta.index));
  }
  RINGKV_RETURN_IF_ERROR(log_->Compact(group_, snap.meta.index + 1, snap.meta.term));
  snap_meta_ = snap.meta;
  conf_state_ = snap.meta.conf_state;
  snapshot_cache_ = std::make_shared<Snapshot>(snap);
  if (hard_state_.commit < snap.meta.index) hard_state_.commit = snap.meta.index;
  return PersistMeta();
}

}  // namespace ringkv::server::replication
