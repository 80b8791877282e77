// Background work of the LSM engine: memtable flushes, compactions and the
// removal of files nothing references any more. See lsm_engine_impl.h for the
// threading rules.
#include <algorithm>

#include "storage/lsm/filename.h"
#include "storage/lsm/lsm_engine_impl.h"
#include "storage/lsm/merging_iterator.h"

namespace ringkv::storage::lsm {
namespace {

// Upper bound on units of work one inline (scheduler-less) pass performs; each
// unit flushes or compacts, so the backlog is always cleared well before this.
constexpr int kMaxInlineUnits = 10000;

}  // namespace

bool LsmEngine::HasBackgroundWork() const {
  return imm_ != nullptr || versions_->NeedsCompaction();
}

void LsmEngine::MaybeScheduleBackgroundWork(std::unique_lock<std::mutex>* lock) {
  if (shutting_down_ || bg_paused_ > 0 || !bg_error_.ok() || !HasBackgroundWork()) return;
  if (scheduler_ != nullptr) {
    if (bg_scheduled_) return;
    bg_scheduled_ = true;
    scheduler_->Schedule([this] { BackgroundCall(); });
    return;
  }
  if (bg_inline_running_) return;  // already inside an inline pass further up the stack
  bg_inline_running_ = true;
  for (int i = 0; i < kMaxInlineUnits && bg_error_.ok() && HasBackgroundWork(); i++) {
    BackgroundWork(lock);
  }
  bg_inline_running_ = false;
  bg_cv_.notify_all();
}

void LsmEngine::BackgroundCall() {
  std::unique_lock<std::mutex> l(mu_);
  if (!shutting_down_ && bg_error_.ok() && bg_paused_ == 0) BackgroundWork(&l);
  bg_scheduled_ = false;
  MaybeScheduleBackgroundWork(&l);
  bg_cv_.notify_all();
}

void LsmEngine::BackgroundWork(std::unique_lock<std::mutex>* lock) {
  Status s;
  if (imm_ != nullptr) {
    s = FlushImmutable(lock);
  } else if (std::unique_ptr<Compaction> c = versions_->PickCompaction()) {
    s = RunCompaction(c.get(), lock);
  }
  if (!s.ok() && bg_error_.ok()) SetBackgroundError(s);
  bg_cv_.notify_all();
}

Status LsmEngine::WriteLevel0Table(MemTable* mem, uint64_t number, FileMeta* meta) {
  meta->number = number;
  meta->file_size = 0;
  auto it = mem->NewIterator();
  it->SeekToFirst();
  if (!it->Valid()) return Status::OK();
  std::unique_ptr<WritableFile> file;
  RINGKV_RETURN_IF_ERROR(env_->NewWritableFile(TableFileName(dir_, number), &file));
  TableBuilder builder(table_options_, file.get());
  std::string last_user_key;
  bool first = true;
  for (; it->Valid(); it->Next()) {
    std::string_view ikey = it->key();
    std::string_view ukey = ExtractUserKey(ikey);
    // Only the newest version of a key is kept: iterators that could see an
    // older one hold this memtable itself, not the table.
    if (!first && ukey == last_user_key) continue;
    last_user_key.assign(ukey);
    if (first) meta->smallest.assign(ikey);
    meta->largest.assign(ikey);
    first = false;
    builder.Add(ikey, it->value());
    meta->num_entries++;
    if (static_cast<ValueType>(ExtractTag(ikey) & 0xff) == ValueType::kDeletion) meta->num_deletions++;
  }
  Status s = builder.Finish();
  if (s.ok()) s = file->Sync();
  if (s.ok()) s = file->Close();
  // The directory entry must be durable before a MANIFEST edit names the file.
  if (s.ok()) s = env_->SyncDir(dir_);
  if (!s.ok()) return s;
  meta->file_size = builder.FileSize();
  disk_bytes_written_.fetch_add(meta->file_size, std::memory_order_relaxed);
  return Status::OK();
}

Status LsmEngine::FlushImmutable(std::unique_lock<std::mutex>* lock) {
  std::shared_ptr<MemTable> imm = imm_;
  uint64_t number = versions_->NewFileNumber();
  pending_outputs_.insert(number);
  VersionEdit edit;
  edit.applied_index = imm_applied_index_;
  edit.log_number = imm_next_log_;
  lock->unlock();
  FileMeta meta;
  Status s = WriteLevel0Table(imm.get(), number, &meta);
  lock->lock();
  if (s.ok()) {
    if (meta.file_size > 0) edit.new_files.emplace_back(0, std::move(meta));
    s = versions_->LogAndApply(&edit, lock);
  }
  pending_outputs_.erase(number);
  if (!s.ok()) return s;
  imm_.reset();
  has_imm_.store(false, std::memory_order_release);
  flushes_.fetch_add(1, std::memory_order_relaxed);
  DeleteObsoleteFiles(lock);
  bg_cv_.notify_all();  // writers stalled on imm_ may proceed
  return Status::OK();
}

// Outputs are installed in pieces: whenever the merge passes the end of an
// input file of level + 1 and the current output is large enough, that output
// (and every earlier one) goes into the version in one edit that also drops
// the level + 1 inputs wholly merged so far, and those files are deleted at
// once. So the disk holds at most the unmerged inputs, the level `c->level`
// inputs and about one output file extra, instead of every input plus every
// output until the end (twice the data of a large L0 -> L1 compaction).
//
// Why a partial version is correct: the outputs hold exactly the newest
// version of every key of the inputs up to the cut, so level + 1 stays
// non-overlapping (the remaining level + 1 inputs all start after the file the
// merge just finished, and the outputs end before that file's end), and the
// level `c->level` inputs, still above, hold the same or newer versions of
// those keys. A crash between pieces leaves that consistent version in the
// MANIFEST; the compaction is simply picked again.
Status LsmEngine::RunCompaction(Compaction* c, std::unique_lock<std::mutex>* lock) {
  const int out_level = c->level + 1;
  if (c->IsTrivialMove()) {
    VersionEdit edit;
    edit.deleted_files.emplace_back(c->level, c->inputs[0][0]->number);
    edit.new_files.emplace_back(out_level, *c->inputs[0][0]);
    RINGKV_RETURN_IF_ERROR(versions_->LogAndApply(&edit, lock));
    trivial_moves_.fetch_add(1, std::memory_order_relaxed);
    return Status::OK();
  }
  const uint64_t target = versions_->limits().target_file_bytes;
  const std::vector<FileRef>& lower = c->inputs[1];
  size_t merged = 0;   // lower[0, merged) end before the key being merged
  size_t removed = 0;  // lower[0, removed) are already out of the version

  lock->unlock();
  std::vector<std::unique_ptr<InternalIterator>> children;
  Status s;
  for (int which = 0; which < 2 && s.ok(); which++) {
    for (const auto& f : c->inputs[which]) {
      auto table = table_cache_->Get(*f);
      if (!table.ok()) {
        s = table.status();
        break;
      }
      children.push_back(table.value()->NewIterator(/*fill_cache=*/false));
    }
  }
  std::vector<FileMeta> outputs;  // not yet installed; the last may be open
  std::unique_ptr<WritableFile> file;
  std::unique_ptr<TableBuilder> builder;
  auto finish_output = [&]() -> Status {
    Status st = builder->Finish();
    if (st.ok()) st = file->Sync();
    if (st.ok()) st = file->Close();
    outputs.back().file_size = builder->FileSize();
    disk_bytes_written_.fetch_add(builder->FileSize(), std::memory_order_relaxed);
    builder.reset();
    file.reset();
    return st;
  };
  // Installs the finished outputs and drops lower[removed, merged).
  // REQUIRES: no open output; mu_ not held.
  auto install_piece = [&]() -> Status {
    Status st = env_->SyncDir(dir_);  // output entries durable before the MANIFEST names them
    if (!st.ok()) return st;
    VersionEdit edit;
    for (size_t i = removed; i < merged; i++) edit.deleted_files.emplace_back(out_level, lower[i]->number);
    for (const auto& f : outputs) edit.new_files.emplace_back(out_level, f);
    lock->lock();
    st = versions_->LogAndApply(&edit, lock);
    if (st.ok()) {
      removed = merged;
      for (const auto& f : outputs) pending_outputs_.erase(f.number);
      outputs.clear();
      partial_installs_.fetch_add(1, std::memory_order_relaxed);
      DeleteObsoleteFiles(lock);
    }
    lock->unlock();
    return st;
  };

  auto input = NewMergingIterator(std::move(children));
  if (s.ok()) input->SeekToFirst();
  std::string last_user_key;
  bool has_last = false;
  // Bounded by the number of input entries.
  for (; s.ok() && input->Valid(); input->Next()) {
    if (has_imm_.load(std::memory_order_acquire)) {
      // Flushing first keeps writers from stalling behind a long compaction.
      lock->lock();
      if (imm_ != nullptr) s = FlushImmutable(lock);
      lock->unlock();
      if (!s.ok()) break;
    }
    ParsedInternalKey k;
    if (!ParseInternalKey(input->key(), &k)) {
      s = Status::Corruption("compaction input: malformed internal key");
      break;
    }
    if (has_last && k.user_key == last_user_key) continue;  // older version: shadowed
    last_user_key.assign(k.user_key);
    has_last = true;
    bool passed_file = false;
    while (merged < lower.size() && ExtractUserKey(lower[merged]->largest) < k.user_key) {
      merged++;
      passed_file = true;
    }
    if (passed_file && builder != nullptr && builder->FileSize() >= target / 2) {
      s = finish_output();
      if (s.ok()) s = install_piece();
      if (!s.ok()) break;
    }
    if (k.type == ValueType::kDeletion && c->IsBaseLevelForKey(k.user_key)) continue;
    if (builder == nullptr) {
      uint64_t number = versions_->NewFileNumber();
      lock->lock();
      pending_outputs_.insert(number);
      lock->unlock();
      s = env_->NewWritableFile(TableFileName(dir_, number), &file);
      if (!s.ok()) break;
      builder = std::make_unique<TableBuilder>(table_options_, file.get());
      outputs.emplace_back();
      outputs.back().number = number;
      outputs.back().smallest.assign(input->key());
    }
    builder->Add(input->key(), input->value());
    FileMeta& out = outputs.back();
    out.largest.assign(input->key());
    out.num_entries++;
    if (k.type == ValueType::kDeletion) out.num_deletions++;
    // Past the target size an output waits for the next level + 1 file end
    // (where a piece can be installed), up to twice the target.
    const uint64_t size = builder->FileSize();
    if (size >= 2 * target || (size >= target && merged == lower.size())) s = finish_output();
  }
  if (s.ok()) s = input->status();
  if (builder != nullptr) {
    Status st = finish_output();
    if (s.ok()) s = st;
  }
  if (s.ok() && !outputs.empty()) s = env_->SyncDir(dir_);
  lock->lock();
  if (s.ok()) {
    VersionEdit edit;
    for (const auto& f : c->inputs[0]) edit.deleted_files.emplace_back(c->level, f->number);
    for (size_t i = removed; i < lower.size(); i++) edit.deleted_files.emplace_back(out_level, lower[i]->number);
    for (auto& f : outputs) edit.new_files.emplace_back(out_level, std::move(f));
    s = versions_->LogAndApply(&edit, lock);
  }
  for (const auto& f : outputs) pending_outputs_.erase(f.number);
  if (s.ok()) compactions_.fetch_add(1, std::memory_order_relaxed);
  DeleteObsoleteFiles(lock);
  return s;
}

void LsmEngine::DeleteObsoleteFiles(std::unique_lock<std::mutex>* lock) {
  std::set<uint64_t> live = versions_->LiveFiles();
  live.insert(pending_outputs_.begin(), pending_outputs_.end());
  const uint64_t log_number = versions_->log_number();
  const uint64_t manifest_number = versions_->manifest_number();
  lock->unlock();
  std::vector<std::string> names;
  if (env_->GetChildren(dir_, &names).ok()) {
    for (const auto& name : names) {
      uint64_t number = 0;
      bool remove = false;
      switch (ParseFileName(name, &number)) {
        case FileKind::kLog: remove = number < log_number; break;
        case FileKind::kTable:
          remove = live.count(number) == 0;
          if (remove) table_cache_->Evict(number);
          break;
        case FileKind::kManifest: remove = manifest_number != 0 && number != manifest_number; break;
        case FileKind::kTemp: remove = true; break;
        default: break;
      }
      // A file we fail to remove is retried on the next pass; it holds no live data.
      if (remove) env_->RemoveFile(dir_ + "/" + name).IgnoreError();
    }
  }
  lock->lock();
}

}  // namespace ringkv::storage::lsm
