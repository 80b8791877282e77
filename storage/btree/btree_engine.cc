#include "storage/btree/btree_engine.h"

#include <cstring>

#include "storage/btree/btree_engine_impl.h"
#include "storage/btree/bulk_loader.h"
#include "storage/btree/checkpoint_journal.h"
#include "storage/btree/overflow.h"
#include "storage/btree/snapshot_iterator.h"
#include "storage/btree/tree_cursor.h"
#include "storage/btree/tree_validator.h"

namespace ringkv::storage {

Result<std::unique_ptr<Engine>> OpenBtreeEngine(const EngineOptions& options) {
  auto r = btree::BtreeEngine::Open(options);
  if (!r.ok()) return r.status();
  return std::unique_ptr<Engine>(std::move(r.value()));
}

namespace btree {
namespace {

std::string PagesPath(const std::string& dir) { return dir + "/pages.db"; }
std::string JournalPath(const std::string& dir) { return dir + "/checkpoint.journal"; }

// The live tree, read through the buffer pool.
class LivePageSource final : public PageSource {
 public:
  explicit LivePageSource(BtreeEngine* engine) : engine_(engine) {}
  Status ReadPage(uint64_t id, std::string* out) override {
    return engine_->ReadPageAt(0, id, out);
  }

 private:
  BtreeEngine* engine_;
};

}  // namespace

BtreeEngine::BtreeEngine(const EngineOptions& options)
    : options_(options),
      env_(options.env != nullptr ? options.env : Env::Default()),
      dir_(options.dir),
      page_bytes_(options.page_bytes) {}

BtreeEngine::~BtreeEngine() {
  // Best effort: a clean close leaves nothing to replay. Errors are ignored
  // here because recovery handles any state a failed checkpoint leaves.
  if (!abandon_ && error_.ok() && tree_ != nullptr && (meta_dirty_ || pool_->dirty_count() > 0)) {
    Checkpoint().IgnoreError();
  }
}

Result<std::unique_ptr<BtreeEngine>> BtreeEngine::Open(const EngineOptions& options) {
  size_t pb = options.page_bytes;
  if (pb < kMinPageBytes || pb > kMaxPageBytes || (pb & (pb - 1)) != 0) {
    return Status::InvalidArgument("btree: page_bytes must be a power of two in [1024, 32768]");
  }
  if (options.dir.empty()) return Status::InvalidArgument("btree: options.dir is empty");
  std::unique_ptr<BtreeEngine> e(new BtreeEngine(options));
  Status s = e->Recover();
  if (!s.ok()) return s;
  return e;
}

Status BtreeEngine::Recover() {
  RINGKV_RETURN_IF_ERROR(env_->CreateDir(dir_));
  std::unique_ptr<RandomRWFile> f;
  RINGKV_RETURN_IF_ERROR(env_->NewRandomRWFile(PagesPath(dir_), &f));
  file_ = std::make_unique<PageFile>(std::move(f), page_bytes_);
  size_t frames = options_.block_cache_bytes / page_bytes_;
  pool_ = std::make_unique<BufferPool>(file_.get(), frames);
  tree_ = std::make_unique<Btree>(pool_.get(), file_.get(), &free_list_, &snapshots_);

  uint64_t size = 0;
  RINGKV_RETURN_IF_ERROR(env_->GetFileSize(PagesPath(dir_), &size));
  if (size == 0) {
    RINGKV_RETURN_IF_ERROR(InitFresh());
  } else {
    RINGKV_RETURN_IF_ERROR(ApplyJournalIfAny());
    RINGKV_RETURN_IF_ERROR(LoadMeta());
  }
  if (env_->FileExists(dir_ + "/wal.tmp"))
    RINGKV_RETURN_IF_ERROR(env_->RemoveFile(dir_ + "/wal.tmp"));
  // Map before the replay, so its page reads already come from the mapping
  // (a replay that checkpoints remaps again if the file grew).
  RemapPages();
  return ReplayWalIfAny();
}

void BtreeEngine::RemapPages() {
  // A failed mapping is not an error: reads fall back to pread through the pool.
  Status s = file_->Remap(env_, PagesPath(dir_));
  if (!s.ok()) remap_errors_++;
}

Status BtreeEngine::InitFresh() {
  if (env_->FileExists(JournalPath(dir_)))
    RINGKV_RETURN_IF_ERROR(env_->RemoveFile(JournalPath(dir_)));
  free_list_.Reset(kMetaPageCount);
  tree_->CreateEmpty();
  // Two meta slots (seq 0 and 1) describing the empty tree, written with the
  // root through a normal checkpoint path minus the journal: nothing to tear yet.
  Meta m;
  m.root = tree_->root();
  m.height = tree_->height();
  m.page_count = free_list_.page_count();
  std::string page(page_bytes_, '\0');
  pool_->ForEachDirty([&](uint64_t id, char* data) {
    Status s = file_->Write(id, data);
    if (!s.ok()) error_ = s;
  });
  RINGKV_RETURN_IF_ERROR(error_);
  pool_->ClearDirty();
  for (uint64_t seq = 0; seq < 2; seq++) {
    m.seq = seq;
    EncodeMeta(m, page.data(), page_bytes_);
    RINGKV_RETURN_IF_ERROR(file_->Write(seq, page.data()));
  }
  RINGKV_RETURN_IF_ERROR(file_->Sync());
  RINGKV_RETURN_IF_ERROR(env_->SyncDir(dir_));
  meta_ = m;
  return Status::OK();
}

Status BtreeEngine::ApplyJournalIfAny() {
  if (!env_->FileExists(JournalPath(dir_))) return Status::OK();
  JournalContents j;
  bool complete = false;
  RINGKV_RETURN_IF_ERROR(ReadJournal(env_, JournalPath(dir_), page_bytes_, &j, &complete));
  if (complete) {
    // Skip a stale journal (its checkpoint already fully on disk and superseded).
    uint64_t newest = 0;
    bool any = false;
    std::string page(page_bytes_, '\0');
    for (uint64_t slot = 0; slot < 2; slot++) {
      Meta m;
      if (file_->Read(slot, page.data()).ok() &&
          DecodeMeta(page.data(), page_bytes_, slot, &m).ok()) {
        newest = any ? std::max(newest, m.seq) : m.seq;
        any = true;
      }
    }
    if (!any || newest <= j.seq) {
      for (auto& [id, image] : j.pages) {
        RINGKV_RETURN_IF_ERROR(VerifyPage(image.data(), page_bytes_, id));
        RINGKV_RETURN_IF_ERROR(file_->Write(id, image.data()));
      }
      RINGKV_RETURN_IF_ERROR(file_->Sync());
    }
  }
  return env_->RemoveFile(JournalPath(dir_));
}

Status BtreeEngine::LoadMeta() {
  std::string page(page_bytes_, '\0');
  Meta slots[2];
  for (uint64_t slot = 0; slot < 2; slot++) {
    RINGKV_RETURN_IF_ERROR(file_->Read(slot, page.data()));
    RINGKV_RETURN_IF_ERROR(DecodeMeta(page.data(), page_bytes_, slot, &slots[slot]));
  }
  uint64_t a = slots[0].seq, b = slots[1].seq;
  if (a + 1 != b && b + 1 != a) {
    return Status::Corruption("btree meta: slots hold checkpoints " + std::to_string(a) + " and " +
                              std::to_string(b) + ", expected consecutive");
  }
  meta_ = a > b ? slots[0] : slots[1];
  RINGKV_RETURN_IF_ERROR(
      free_list_.Load(*file_, meta_.freelist_head, meta_.page_count, meta_.free_count));
  tree_->SetRoot(meta_.root, meta_.height);
  next_lsn_ = meta_.checkpoint_lsn + 1;
  applied_index_ = meta_.applied_index;
  key_count_ = meta_.key_count;
  return Status::OK();
}

Status BtreeEngine::ReplayWalIfAny() {
  if (env_->FileExists(WalPath(dir_))) {
    WalReplayInfo info;
    const uint64_t ckpt = meta_.checkpoint_lsn;
    Status s = ReplayWal(
        env_, dir_,
        [&](WalRecordType type, uint64_t lsn, std::string_view payload) -> Status {
          if (lsn == info.start_lsn && lsn > ckpt + 1) {
            return Status::Corruption("btree wal: starts at LSN " + std::to_string(lsn) +
                                      " but the checkpoint covers only " + std::to_string(ckpt));
          }
          if (lsn <= ckpt) return Status::OK();
          if (type == WalRecordType::kClear) {
            RINGKV_RETURN_IF_ERROR(ApplyClear());
          } else {
            Result<WriteBatch> b = WriteBatch::Decode(payload);
            if (!b.ok()) return b.status();
            RINGKV_RETURN_IF_ERROR(ApplyBatch(b.value()));
          }
          next_lsn_ = lsn + 1;
          meta_dirty_ = true;
          return Status::OK();
        },
        &info);
    RINGKV_RETURN_IF_ERROR(s);
    if (info.start_lsn > ckpt + 1) {
      return Status::Corruption("btree wal: starts at LSN " + std::to_string(info.start_lsn) +
                                " but the checkpoint covers only " + std::to_string(ckpt));
    }
    if (options_.use_wal) {
      RINGKV_RETURN_IF_ERROR(WalWriter::OpenExisting(env_, dir_, info.valid_bytes, &wal_));
      return MaybeCheckpoint();
    }
    // Reopened without a WAL: fold the replayed records into a checkpoint.
    RINGKV_RETURN_IF_ERROR(Checkpoint());
    return env_->RemoveFile(WalPath(dir_));
  }
  if (options_.use_wal) return WalWriter::Create(env_, dir_, next_lsn_, &wal_);
  return Status::OK();
}

Status BtreeEngine::Fail(Status s) {
  if (error_.ok()) error_ = s;
  return s;
}

Status BtreeEngine::CheckSizes(std::string_view key, size_t value_bytes) const {
  if (key.size() > MaxKeyBytes(page_bytes_)) {
    return Status::InvalidArgument("btree: key of " + std::to_string(key.size()) +
                                   " bytes exceeds the limit of " +
                                   std::to_string(MaxKeyBytes(page_bytes_)) + " for page_bytes " +
                                   std::to_string(page_bytes_));
  }
  if (value_bytes > kMaxValueBytes) return Status::InvalidArgument("btree: value over 512 MiB");
  return Status::OK();
}

Status BtreeEngine::ApplyPut(std::string_view key, std::string_view value) {
  bool inserted = false;
  RINGKV_RETURN_IF_ERROR(tree_->Put(key, value, &inserted));
  if (inserted) key_count_++;
  return Status::OK();
}

Status BtreeEngine::ApplyDelete(std::string_view key) {
  bool erased = false;
  RINGKV_RETURN_IF_ERROR(tree_->Delete(key, &erased));
  if (erased) key_count_--;
  return Status::OK();
}

Status BtreeEngine::ApplyClear() {
  RINGKV_RETURN_IF_ERROR(tree_->Clear());
  key_count_ = 0;
  return Status::OK();
}

Status BtreeEngine::ApplyBatch(const WriteBatch& batch) {
  Status op_status;
  Status s = batch.Iterate([&](WriteBatch::OpType type, std::string_view k, std::string_view v) {
    if (!op_status.ok()) return;
    op_status = type == WriteBatch::OpType::kPut ? ApplyPut(k, v) : ApplyDelete(k);
  });
  RINGKV_RETURN_IF_ERROR(s);
  return op_status;
}

Status BtreeEngine::LogAndApply(const WriteBatch& batch) {
  RINGKV_RETURN_IF_ERROR(error_);
  if (wal_ != nullptr) {
    Status s = wal_->Append(WalRecordType::kBatch, next_lsn_, batch.Encode(), options_.sync_wal);
    if (!s.ok()) return Fail(s);  // a partial record may sit in the WAL now
  }
  next_lsn_++;
  meta_dirty_ = true;
  Status s = ApplyBatch(batch);
  if (!s.ok()) return Fail(s);
  user_bytes_written_ += batch.payload_bytes();
  return MaybeCheckpoint();
}

Status BtreeEngine::Put(std::string_view key, std::string_view value) {
  RINGKV_RETURN_IF_ERROR(CheckSizes(key, value.size()));
  WriteBatch b;
  b.Put(key, value);
  return LogAndApply(b);
}

Status BtreeEngine::Delete(std::string_view key) {
  RINGKV_RETURN_IF_ERROR(CheckSizes(key, 0));
  WriteBatch b;
  b.Delete(key);
  return LogAndApply(b);
}

Status BtreeEngine::Write(const WriteBatch& batch) {
  Status size_status;
  RINGKV_RETURN_IF_ERROR(
      batch.Iterate([&](WriteBatch::OpType, std::string_view k, std::string_view v) {
        if (size_status.ok()) size_status = CheckSizes(k, v.size());
      }));
  RINGKV_RETURN_IF_ERROR(size_status);
  if (batch.Count() == 0) return Status::OK();
  return LogAndApply(batch);
}

Status BtreeEngine::Get(std::string_view key, std::string* value) {
  if (key.size() > MaxKeyBytes(page_bytes_)) return Status::NotFound();
  return tree_->Get(key, value);
}

Status BtreeEngine::ViewPageAt(uint64_t snapshot_epoch, uint64_t page_id, const char** data,
                               PageRef* pin) {
  if (snapshot_epoch != 0) {
    if (const std::string* img = snapshots_.Find(page_id, snapshot_epoch)) {
      *data = img->data();
      return Status::OK();
    }
  }
  if (page_id < kMetaPageCount || page_id >= free_list_.page_count()) {
    return Status::Corruption("btree: link to page " + std::to_string(page_id) +
                              " outside the file");
  }
  return tree_->ViewPage(page_id, data, pin);
}

Status BtreeEngine::ReadPageAt(uint64_t snapshot_epoch, uint64_t page_id, std::string* out) {
  const char* page = nullptr;
  PageRef pin;
  RINGKV_RETURN_IF_ERROR(ViewPageAt(snapshot_epoch, page_id, &page, &pin));
  out->assign(page, page_bytes_);
  return Status::OK();
}

Status BtreeEngine::VisitRange(std::string_view start, size_t limit, const ScanVisitor& visit) {
  bool at_end = false;
  return tree_->Scan(start, false, limit, visit, nullptr, &at_end);
}

// Cursor layout and the fallback rule: storage/base/scan_cursor.h.
Result<uint64_t> BtreeEngine::ScanCursor(uint64_t cursor, size_t count, const ScanVisitor& visit) {
  if (!scan_cursor::WellFormed(cursor)) return Status::InvalidArgument("invalid scan cursor");
  count = std::max<size_t>(count, 1);
  std::string start;
  bool skip_equal = false;
  bool exact = true;
  if (cursor != 0) {
    if (const scan_cursor::Resume* r = scan_resumes_.Find(cursor)) {
      start = r->key;
      skip_equal = r->after;
    } else {
      start = scan_cursor::FallbackSeekKey(cursor);
      exact = false;
    }
  }
  std::string last;
  bool at_end = false;
  // A fallback call goes on, a piece of `count` keys at a time, until it has
  // visited a key past its prefix. Bounded: each piece visits `count` new keys.
  for (;;) {
    Status s = tree_->Scan(start, skip_equal, count, visit, &last, &at_end);
    if (!s.ok()) return s;
    if (at_end) return uint64_t{0};
    if (exact || scan_cursor::PastPrefix(last, cursor)) break;
    start = last;
    skip_equal = true;
  }
  // The key after `last` is not known here: resume after `last`.
  return scan_resumes_.Remember(last, /*after=*/true);
}

std::unique_ptr<Iterator> BtreeEngine::NewSnapshotIterator() {
  uint64_t epoch = snapshots_.Open();
  return std::make_unique<SnapshotIterator>(this, epoch, tree_->root(), tree_->height(),
                                            free_list_.page_count());
}

Status BtreeEngine::Clear() {
  RINGKV_RETURN_IF_ERROR(error_);
  if (wal_ != nullptr) {
    Status s = wal_->Append(WalRecordType::kClear, next_lsn_, {}, options_.sync_wal);
    if (!s.ok()) return Fail(s);
  }
  next_lsn_++;
  meta_dirty_ = true;
  Status s = ApplyClear();
  if (!s.ok()) return Fail(s);
  return MaybeCheckpoint();
}

Status BtreeEngine::Restore(Iterator* source, uint64_t applied_index) {
  RINGKV_RETURN_IF_ERROR(error_);
  // Make the current state durable first, so the switch below is one checkpoint.
  RINGKV_RETURN_IF_ERROR(Checkpoint());
  BulkLoader loader(file_.get(), &free_list_);
  Status s;
  for (source->SeekToFirst(); source->Valid() && s.ok(); source->Next()) {
    s = loader.Add(source->key(), source->value());
  }
  if (s.ok()) s = source->status();
  uint64_t root = 0;
  uint32_t height = 0;
  if (s.ok()) s = loader.Finish(&root, &height);
  if (!s.ok()) {
    for (uint64_t id : loader.allocated()) free_list_.Free(id);
    return s;
  }
  // Release the old tree, switch to the new one, and checkpoint: the meta
  // write is the atomic switch.
  std::vector<uint64_t> nodes, overflow;
  s = tree_->CollectPages(&nodes, &overflow);
  if (!s.ok()) return Fail(s);
  for (uint64_t id : nodes) {
    Result<PageRef> r = pool_->Fetch(id);
    if (!r.ok()) return Fail(r.status());
    tree_->FreeNode(std::move(r.value()));
  }
  for (uint64_t id : overflow) free_list_.Free(id);
  tree_->SetRoot(root, height);
  key_count_ = loader.count();
  applied_index_ = applied_index;
  meta_dirty_ = true;
  return Checkpoint();
}

Status BtreeEngine::MaybeCheckpoint() {
  // Reads no longer use the pool (they go through the mapping), so clean
  // frames only save writes a copy from the mapping: let dirty pages take
  // 15/16 of it. More commits per checkpoint means fewer page writes per
  // commit (a write fetches at most height + 2 pages, far below 1/16).
  bool pool_full = pool_->dirty_count() * 16 > pool_->capacity() * 15;
  bool wal_full = wal_ != nullptr && wal_->size() > WalCheckpointBytes();
  if (pool_full || wal_full) return Checkpoint();
  return Status::OK();
}

Status BtreeEngine::Sync() {
  RINGKV_RETURN_IF_ERROR(error_);
  if (!meta_dirty_ && pool_->dirty_count() == 0 && applied_index_ == meta_.applied_index) {
    return Status::OK();
  }
  return Checkpoint();
}

Status BtreeEngine::Checkpoint() {
  RINGKV_RETURN_IF_ERROR(error_);
  // Pages allocated since the last checkpoint are unreferenced by the durable
  // tree, so they go straight to their place; only pages the durable
  // checkpoint references (and the free-list chain and meta) need the journal.
  std::vector<std::pair<uint64_t, char*>> fresh;
  std::vector<std::pair<uint64_t, const char*>> pages;
  pool_->ForEachDirty([&](uint64_t id, char* data) {
    const PageType type = GetPageType(data);
    if (type == PageType::kLeaf || type == PageType::kInternal) Node(data, page_bytes_).ZeroGap();
    if (free_list_.IsFresh(id)) {
      fresh.emplace_back(id, data);
    } else {
      SealPage(data, page_bytes_);
      pages.emplace_back(id, data);
    }
  });
  std::vector<std::pair<uint64_t, std::string>> chain;
  uint64_t head = 0;
  free_list_.PrepareCheckpoint(!snapshots_.active(), page_bytes_, &chain, &head);
  Meta m = meta_;
  m.seq = meta_.seq + 1;
  m.root = tree_->root();
  m.height = tree_->height();
  m.page_count = free_list_.page_count();
  m.freelist_head = head;
  m.free_count = free_list_.free_count();
  m.applied_index = applied_index_;
  m.checkpoint_lsn = next_lsn_ - 1;
  m.key_count = key_count_;
  std::string meta_page(page_bytes_, '\0');
  EncodeMeta(m, meta_page.data(), page_bytes_);

  for (auto& [id, img] : chain) {
    SealPage(img.data(), page_bytes_);
    pages.emplace_back(id, img.data());
  }
  SealPage(meta_page.data(), page_bytes_);
  pages.emplace_back(m.seq % 2, meta_page.data());

  Status s;
  for (auto& [id, data] : fresh) {
    s = file_->Write(id, data);
    if (!s.ok()) return Fail(s);
  }
  // Fresh pages must be durable before the journal is: a complete journal is
  // re-applied by recovery, and its meta references them.
  if (!fresh.empty()) {
    s = file_->Sync();
    if (!s.ok()) return Fail(s);
  }
  uint64_t jbytes = 0;
  s = WriteJournal(env_, dir_, JournalPath(dir_), page_bytes_, m.seq, pages, &jbytes);
  if (!s.ok()) return Fail(s);
  journal_bytes_ += jbytes;
  for (auto& [id, data] : pages) {
    s = file_->Write(id, const_cast<char*>(data));
    if (!s.ok()) return Fail(s);
  }
  s = file_->Sync();
  if (!s.ok()) return Fail(s);
  s = env_->RemoveFile(JournalPath(dir_));
  if (!s.ok()) return Fail(s);
  pool_->ClearDirty();
  meta_ = m;
  meta_dirty_ = false;
  checkpoints_++;
  RemapPages();  // the file may have grown (fresh pages); no read is in flight here
  if (wal_ != nullptr) {
    wal_bytes_before_ += wal_->bytes_written();
    wal_.reset();
    s = WalWriter::Create(env_, dir_, next_lsn_, &wal_);
    if (!s.ok()) return Fail(s);
  }
  return Status::OK();
}

EngineStats BtreeEngine::Stats() const {
  EngineStats st;
  st.keys = key_count_;
  st.memory_bytes = pool_->frame_count() * page_bytes_ + snapshots_.image_bytes();
  uint64_t wal_size = wal_ != nullptr ? wal_->size() : 0;
  st.disk_bytes = free_list_.page_count() * page_bytes_ + wal_size;
  // Pool hits, plus pages read through the mapping (the OS page cache serves
  // them; a page not yet resident costs a page fault, not counted here).
  st.cache_hits = pool_->hits() + file_->mapped_reads();
  st.cache_misses = pool_->misses();
  st.flushes = checkpoints_;
  st.page_splits = tree_->counters().splits;
  st.user_bytes_written = user_bytes_written_;
  uint64_t wal_bytes = wal_bytes_before_ + (wal_ != nullptr ? wal_->bytes_written() : 0);
  st.disk_bytes_written = file_->bytes_written() + journal_bytes_ + wal_bytes;
  uint64_t pages = free_list_.page_count();
  uint64_t free_pages = free_list_.free_count() + free_list_.pending_count();
  st.extra = {
      {"btree_pages", std::to_string(pages)},
      {"btree_free_pages", std::to_string(free_pages)},
      {"btree_height", std::to_string(tree_->height())},
      {"btree_merges", std::to_string(tree_->counters().merges)},
      {"btree_redistributions", std::to_string(tree_->counters().redistributions)},
      {"btree_checkpoints", std::to_string(checkpoints_)},
      {"btree_dirty_pages", std::to_string(pool_->dirty_count())},
      {"btree_wal_bytes", std::to_string(wal_bytes)},
      {"btree_journal_bytes", std::to_string(journal_bytes_)},
      {"btree_page_file_bytes_written", std::to_string(file_->bytes_written())},
      {"btree_pool_hits", std::to_string(pool_->hits())},
      {"btree_mapped_reads", std::to_string(file_->mapped_reads())},
      {"btree_mapped_bytes", std::to_string(file_->mapped_bytes())},
      {"btree_remaps", std::to_string(file_->remaps())},
      {"btree_remap_errors", std::to_string(remap_errors_)},
      {"btree_write_amplification",
       user_bytes_written_ == 0 ? "0"
                                : std::to_string(static_cast<double>(st.disk_bytes_written) /
                                                 static_cast<double>(user_bytes_written_))},
  };
  return st;
}

Status BtreeEngine::Validate() {
  LivePageSource source(this);
  return ValidateTree(&source, *file_, tree_->root(), tree_->height(), key_count_, &free_list_);
}

}  // namespace btree
}  // namespace ringkv::storage
