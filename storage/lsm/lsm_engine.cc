#include "storage/lsm/lsm_engine.h"

#include <algorithm>

#include "storage/base/coding.h"
#include "storage/lsm/filename.h"
#include "storage/lsm/log_reader.h"
#include "storage/lsm/lsm_engine_impl.h"

namespace ringkv::storage {

Result<std::unique_ptr<Engine>> OpenLsmEngine(const EngineOptions& options) {
  if (options.dir.empty()) return Status::InvalidArgument("lsm engine needs options.dir");
  auto engine = std::make_unique<lsm::LsmEngine>(options);
  RINGKV_RETURN_IF_ERROR(engine->Open());
  return std::unique_ptr<Engine>(std::move(engine));
}

namespace lsm {
namespace {

// Level-0 file count at which writes wait for compaction (bounded stall).
constexpr size_t kL0StopWrites = 12;
// A mapped WAL grows in steps of this many zero bytes (at most this much
// unused space on disk while a WAL is open).
constexpr size_t kWalGrowBytes = 256 << 10;

VersionSet::Limits LimitsFor(const EngineOptions& o) {
  VersionSet::Limits limits;
  // Level 1 holds at least a few flushes' worth, so an L0->L1 compaction
  // does not rewrite all of L1 for every handful of memtables (a level 1 of
  // two flushes, tried in session 5, doubled compaction writes and, on one
  // core, cost fill, read and scan speed; small test buffers also made the
  // engine tests run many times more compactions).
  limits.base_level_bytes = std::max<uint64_t>(10ull << 20, 4 * o.write_buffer_bytes);
  limits.target_file_bytes = 2ull << 20;
  return limits;
}

}  // namespace

LsmEngine::LsmEngine(const EngineOptions& options)
    : options_(options), env_(options.env != nullptr ? options.env : Env::Default()),
      dir_(options.dir), scheduler_(options.scheduler), table_options_(),
      block_cache_(std::make_unique<BlockCache>(options.block_cache_bytes)),
      table_cache_(std::make_unique<TableCache>(env_, dir_, block_cache_.get())),
      versions_(std::make_unique<VersionSet>(env_, dir_, table_cache_.get(), LimitsFor(options))),
      mem_(std::make_shared<MemTable>()) {}

LsmEngine::~LsmEngine() {
  bool healthy;
  {
    std::lock_guard<std::mutex> l(mu_);
    healthy = bg_error_.ok();
  }
  // A clean close persists everything: without a WAL the memtable is flushed;
  // with one, the WAL already holds every write and is replayed on open.
  if (healthy && !options_.use_wal) Sync().IgnoreError();
  std::unique_lock<std::mutex> l(mu_);
  shutting_down_ = true;
  while (bg_scheduled_ || bg_inline_running_) bg_cv_.wait(l);
  if (wal_ != nullptr) wal_->Close().IgnoreError();
}

Status LsmEngine::Open() {
  RINGKV_RETURN_IF_ERROR(env_->CreateDir(dir_));
  bool exists = false;
  RINGKV_RETURN_IF_ERROR(versions_->Recover(&exists));

  // Replay every WAL the MANIFEST does not cover, oldest first.
  std::vector<std::string> names;
  RINGKV_RETURN_IF_ERROR(env_->GetChildren(dir_, &names));
  std::vector<uint64_t> logs;
  for (const auto& name : names) {
    uint64_t number = 0;
    FileKind kind = ParseFileName(name, &number);
    if (kind == FileKind::kLog || kind == FileKind::kTable || kind == FileKind::kManifest) {
      versions_->MarkFileNumberUsed(number);
    }
    if (kind == FileKind::kLog && number >= versions_->log_number()) logs.push_back(number);
  }
  std::sort(logs.begin(), logs.end());
  uint64_t max_sequence = versions_->last_sequence();
  auto recovered = std::make_shared<MemTable>();
  for (uint64_t number : logs) RINGKV_RETURN_IF_ERROR(ReplayWal(number, recovered.get(), &max_sequence));
  versions_->set_last_sequence(max_sequence);
  applied_index_ = versions_->applied_index();

  VersionEdit edit;
  if (recovered->num_entries() > 0) {
    FileMeta meta;
    RINGKV_RETURN_IF_ERROR(WriteLevel0Table(recovered.get(), versions_->NewFileNumber(), &meta));
    if (meta.file_size > 0) edit.new_files.emplace_back(0, meta);
  }
  std::unique_ptr<LogWriter> wal;
  uint64_t wal_number = 0;
  if (options_.use_wal) {
    wal_number = versions_->NewFileNumber();
    RINGKV_RETURN_IF_ERROR(NewWal(wal_number, &wal));
    edit.log_number = wal_number;
  } else {
    edit.log_number = versions_->NewFileNumber();  // every replayed WAL is now obsolete
  }
  std::unique_lock<std::mutex> l(mu_);
  RINGKV_RETURN_IF_ERROR(versions_->LogAndApply(&edit, &l));
  wal_ = std::move(wal);
  wal_number_ = wal_number;
  DeleteObsoleteFiles(&l);
  MaybeScheduleBackgroundWork(&l);
  return Status::OK();
}

Status LsmEngine::ReplayWal(uint64_t number, MemTable* mem, uint64_t* max_sequence) {
  LogReadResult result;
  return ReadLog(env_, LogFileName(dir_, number), [&](std::string_view record) -> Status {
    if (record.size() < 8) return Status::Corruption("WAL record too short");
    uint64_t seq = DecodeFixed64(record.data());
    auto batch = WriteBatch::Decode(record.substr(8));
    if (!batch.ok()) return Status::Corruption("WAL " + batch.status().message());
    Status s = batch->Iterate([&](WriteBatch::OpType type, std::string_view k, std::string_view v) {
      mem->Add(seq, type == WriteBatch::OpType::kPut ? ValueType::kValue : ValueType::kDeletion, k, v);
      *max_sequence = std::max(*max_sequence, seq);
      seq++;
    });
    return s;
  }, &result);
}

Status LsmEngine::NewWal(uint64_t number, std::unique_ptr<LogWriter>* wal) {
  std::unique_ptr<WritableFile> file;
  const std::string path = LogFileName(dir_, number);
  // Without sync_wal, a mapped log costs a memcpy per record instead of a
  // write(2) (about 1 us against 6 us here), with the same safety against a
  // process kill (log_reader.h reads its torn tails). With sync_wal a plain
  // file is faster: an fdatasync of a mapped file write-protects its pages, so
  // every record then pays a page fault, and ext4 journals more (measured 370
  // against 500-800 syncs/s). The plain file is kept ahead of the data with
  // zeros, so those syncs allocate no blocks; its zero tail reads as the end of
  // the log, like a mapped log's. Envs without mappings (MemEnv,
  // fault injection) take the plain file.
  Status s = options_.sync_wal ? env_->NewPreallocatedWritableFile(path, kWalGrowBytes, &file)
                               : env_->NewMappedAppendFile(path, kWalGrowBytes, &file);
  if (s.IsNotSupported()) s = env_->NewWritableFile(path, &file);
  RINGKV_RETURN_IF_ERROR(s);
  // A synced record is only durable if the file's directory entry is too.
  RINGKV_RETURN_IF_ERROR(env_->SyncDir(dir_));
  *wal = std::make_unique<LogWriter>(std::move(file));
  return Status::OK();
}

// ---------------------------------------------------------------- writes

Status LsmEngine::Put(std::string_view key, std::string_view value) {
  return WriteOne(ValueType::kValue, key, value);
}

Status LsmEngine::Delete(std::string_view key) { return WriteOne(ValueType::kDeletion, key, {}); }

// The single-operation fast path: the same WAL record a one-op WriteBatch
// would produce, without building the batch.
Status LsmEngine::WriteOne(ValueType type, std::string_view key, std::string_view value) {
  RINGKV_RETURN_IF_ERROR(MakeRoomForWrite());
  uint64_t seq = versions_->last_sequence() + 1;
  if (wal_ != nullptr) {
    wal_record_.clear();
    PutFixed64(&wal_record_, seq);
    PutVarint32(&wal_record_, 1);
    wal_record_.push_back(static_cast<char>(type == ValueType::kValue ? WriteBatch::OpType::kPut
                                                                      : WriteBatch::OpType::kDelete));
    PutLengthPrefixed(&wal_record_, key);
    if (type == ValueType::kValue) PutLengthPrefixed(&wal_record_, value);
    RINGKV_RETURN_IF_ERROR(AppendWal());
  }
  mem_->Add(seq, type, key, value);
  versions_->set_last_sequence(seq);
  user_bytes_written_.fetch_add(key.size() + value.size(), std::memory_order_relaxed);
  return Status::OK();
}

Status LsmEngine::AppendWal() {
  Status s = wal_->AddRecord(wal_record_, options_.sync_wal);
  if (!s.ok()) {
    // The WAL may now end in a partial record; appending after it would turn a
    // torn tail into mid-file corruption, so refuse further writes.
    std::lock_guard<std::mutex> l(mu_);
    if (bg_error_.ok()) SetBackgroundError(s);
    return s;
  }
  disk_bytes_written_.fetch_add(wal_record_.size() + kLogHeaderBytes, std::memory_order_relaxed);
  return Status::OK();
}

Status LsmEngine::Write(const WriteBatch& batch) {
  if (batch.Count() == 0) return Status::OK();
  RINGKV_RETURN_IF_ERROR(MakeRoomForWrite());
  uint64_t first = versions_->last_sequence() + 1;
  if (wal_ != nullptr) {
    wal_record_.clear();
    PutFixed64(&wal_record_, first);
    wal_record_ += batch.Encode();
    RINGKV_RETURN_IF_ERROR(AppendWal());
  }
  uint64_t seq = first;
  Status s = batch.Iterate([&](WriteBatch::OpType type, std::string_view k, std::string_view v) {
    mem_->Add(seq++, type == WriteBatch::OpType::kPut ? ValueType::kValue : ValueType::kDeletion, k, v);
  });
  RINGKV_CHECK(s.ok());  // a batch built through its API is always well formed
  versions_->set_last_sequence(seq - 1);
  user_bytes_written_.fetch_add(batch.payload_bytes(), std::memory_order_relaxed);
  return Status::OK();
}

Status LsmEngine::MakeRoomForWrite() {
  // Fast path without the mutex: mem_ belongs to this thread, and a background
  // error is published through bg_failed_ as well as bg_error_.
  if (!bg_failed_.load(std::memory_order_acquire) &&
      mem_->ApproximateMemoryUsage() < options_.write_buffer_bytes) {
    return Status::OK();
  }
  std::unique_lock<std::mutex> l(mu_);
  // Each wait ends when a background unit finishes (it always notifies), and
  // every unit either shrinks the backlog or records bg_error_.
  while (true) {
    if (!bg_error_.ok()) return bg_error_;
    if (mem_->ApproximateMemoryUsage() < options_.write_buffer_bytes) return Status::OK();
    if (imm_ != nullptr) {
      stalls_.fetch_add(1, std::memory_order_relaxed);
      bg_cv_.wait(l);
      continue;
    }
    if (scheduler_ != nullptr && versions_->current()->files[0].size() >= kL0StopWrites) {
      stalls_.fetch_add(1, std::memory_order_relaxed);
      bg_cv_.wait(l);
      continue;
    }
    return SwitchMemTable(&l);
  }
}

Status LsmEngine::SwitchMemTable(std::unique_lock<std::mutex>* lock) {
  RINGKV_CHECK(imm_ == nullptr);
  std::unique_ptr<LogWriter> wal;
  uint64_t wal_number = 0;
  if (options_.use_wal) {
    wal_number = versions_->NewFileNumber();
    RINGKV_RETURN_IF_ERROR(NewWal(wal_number, &wal));
    if (wal_ != nullptr) RINGKV_RETURN_IF_ERROR(wal_->Close());
  }
  imm_ = mem_;
  has_imm_.store(true, std::memory_order_release);
  mem_ = std::make_shared<MemTable>();
  imm_applied_index_ = applied_index_.load();
  imm_next_log_ = options_.use_wal ? wal_number : versions_->log_number();
  wal_ = std::move(wal);
  wal_number_ = wal_number;
  MaybeScheduleBackgroundWork(lock);
  return Status::OK();
}

// ---------------------------------------------------------------- reads

IteratorPins LsmEngine::Pins() const {
  std::lock_guard<std::mutex> l(mu_);
  return IteratorPins{mem_, imm_, versions_->current()};
}

Status LsmEngine::Get(std::string_view key, std::string* value) {
  LookupKey lk(key, versions_->last_sequence());
  bool deleted = false;
  // mem_ is only replaced by this (the owner) thread, so no lock is needed to read it.
  if (mem_->Get(lk, value, &deleted)) return deleted ? Status::NotFound() : Status::OK();
  std::shared_ptr<MemTable> imm;
  std::shared_ptr<const Version> version;
  {
    std::lock_guard<std::mutex> l(mu_);
    imm = imm_;
    version = versions_->current();
  }
  if (imm != nullptr && imm->Get(lk, value, &deleted)) {
    return deleted ? Status::NotFound() : Status::OK();
  }
  bool found = false;
  ValueType type = ValueType::kValue;
  SeekCharge charge;
  RINGKV_RETURN_IF_ERROR(version->Get(table_cache_.get(), lk, &found, &type, value, &charge));
  if (charge.Apply()) SeekBudgetSpentFor(charge.file->number);
  if (!found || type == ValueType::kDeletion) return Status::NotFound();
  return Status::OK();
}

void LsmEngine::SeekBudgetSpentFor(uint64_t file_number) {
  std::unique_lock<std::mutex> l(mu_);
  versions_->RequestSeekCompaction(file_number);
  MaybeScheduleBackgroundWork(&l);
}

std::unique_ptr<Iterator> LsmEngine::NewSnapshotIterator() {
  return NewDbIterator(Pins(), table_cache_.get(), versions_->last_sequence(),
                       [this](uint64_t number) { SeekBudgetSpentFor(number); });
}

Status LsmEngine::VisitRange(std::string_view start, size_t limit, const ScanVisitor& visit) {
  auto it = NewSnapshotIterator();
  it->Seek(start);
  for (size_t n = 0; n < limit && it->Valid(); n++, it->Next()) visit(it->key(), it->value());
  return it->status();
}

// Cursor layout and the fallback rule: storage/base/scan_cursor.h.
Result<uint64_t> LsmEngine::ScanCursor(uint64_t cursor, size_t count, const ScanVisitor& visit) {
  if (!scan_cursor::WellFormed(cursor)) return Status::InvalidArgument("invalid scan cursor");
  count = std::max<size_t>(count, 1);
  auto it = NewSnapshotIterator();
  bool exact = true;
  if (cursor == 0) {
    it->SeekToFirst();
  } else if (const scan_cursor::Resume* r = scan_resumes_.Find(cursor)) {
    it->Seek(r->key);  // remembered as the first key not yet visited
  } else {
    exact = false;
    it->Seek(scan_cursor::FallbackSeekKey(cursor));
  }
  size_t visited = 0;
  // Bounded by the number of keys: each pass visits one key or returns.
  while (it->Valid()) {
    if (visited >= count && (exact || scan_cursor::PastPrefix(it->key(), cursor))) {
      return scan_resumes_.Remember(it->key(), /*after=*/false);
    }
    visit(it->key(), it->value());
    visited++;
    it->Next();
  }
  if (!it->status().ok()) return it->status();
  return uint64_t{0};
}

// ---------------------------------------------------------------- whole-engine operations

void LsmEngine::PauseBackground(std::unique_lock<std::mutex>* lock) {
  bg_paused_++;
  while (bg_scheduled_ || bg_inline_running_) bg_cv_.wait(*lock);
}

void LsmEngine::ResumeBackground(std::unique_lock<std::mutex>* lock) {
  RINGKV_CHECK(bg_paused_ > 0);
  bg_paused_--;
  MaybeScheduleBackgroundWork(lock);
}

Status LsmEngine::Sync() {
  if (wal_ != nullptr) RINGKV_RETURN_IF_ERROR(wal_->Sync());
  std::unique_lock<std::mutex> l(mu_);
  while (imm_ != nullptr && bg_error_.ok()) bg_cv_.wait(l);
  if (!bg_error_.ok()) return bg_error_;
  if (mem_->num_entries() == 0) {
    if (applied_index_.load() == versions_->applied_index()) return Status::OK();
    PauseBackground(&l);
    VersionEdit edit;
    edit.applied_index = applied_index_.load();
    Status s = versions_->LogAndApply(&edit, &l);
    ResumeBackground(&l);
    return s;
  }
  RINGKV_RETURN_IF_ERROR(SwitchMemTable(&l));
  while (imm_ != nullptr && bg_error_.ok()) bg_cv_.wait(l);
  return bg_error_;
}

Status LsmEngine::WaitForBackgroundWork() {
  std::unique_lock<std::mutex> l(mu_);
  MaybeScheduleBackgroundWork(&l);
  // Paused (a Restore or Clear in progress) or shutting down: nothing will
  // run until that ends, so waiting would not end either.
  while (bg_error_.ok() && !shutting_down_ && bg_paused_ == 0 &&
         (bg_scheduled_ || bg_inline_running_ || HasBackgroundWork())) {
    bg_cv_.wait(l);
  }
  return bg_error_;
}

Status LsmEngine::Restore(Iterator* source, uint64_t applied_index) {
  {
    std::unique_lock<std::mutex> l(mu_);
    PauseBackground(&l);
  }
  // Stream the source into memtable-sized level-0 tables. They may overlap each
  // other; later files get higher sequence numbers, as flushes would.
  std::vector<FileMeta> files;
  uint64_t seq = versions_->last_sequence();
  auto mem = std::make_shared<MemTable>();
  auto flush = [&]() -> Status {
    uint64_t number = versions_->NewFileNumber();
    {
      std::lock_guard<std::mutex> l(mu_);
      pending_outputs_.insert(number);
    }
    FileMeta meta;
    RINGKV_RETURN_IF_ERROR(WriteLevel0Table(mem.get(), number, &meta));
    if (meta.file_size > 0) files.push_back(meta);
    mem = std::make_shared<MemTable>();
    return Status::OK();
  };
  Status s;
  source->SeekToFirst();
  for (; s.ok() && source->Valid(); source->Next()) {
    mem->Add(++seq, ValueType::kValue, source->key(), source->value());
    if (mem->ApproximateMemoryUsage() >= options_.write_buffer_bytes) s = flush();
  }
  if (s.ok()) s = source->status();
  if (s.ok() && mem->num_entries() > 0) s = flush();
  if (s.ok()) versions_->set_last_sequence(seq);
  if (s.ok()) return InstallReplacement(std::move(files), applied_index);
  std::unique_lock<std::mutex> l(mu_);
  pending_outputs_.clear();
  DeleteObsoleteFiles(&l);  // removes the partial tables just written
  ResumeBackground(&l);
  return s;
}

Status LsmEngine::Clear() {
  {
    std::unique_lock<std::mutex> l(mu_);
    PauseBackground(&l);
  }
  return InstallReplacement({}, applied_index_.load());
}

// REQUIRES: background paused by the caller; resumes it.
Status LsmEngine::InstallReplacement(std::vector<FileMeta> files, uint64_t applied_index) {
  std::unique_lock<std::mutex> l(mu_);
  VersionEdit edit;
  std::shared_ptr<const Version> current = versions_->current();
  for (int level = 0; level < kNumLevels; level++) {
    for (const auto& f : current->files[level]) edit.deleted_files.emplace_back(level, f->number);
  }
  for (auto& f : files) edit.new_files.emplace_back(0, std::move(f));
  edit.applied_index = applied_index;
  std::unique_ptr<LogWriter> wal;
  uint64_t wal_number = 0;
  Status s;
  if (options_.use_wal) {
    wal_number = versions_->NewFileNumber();
    s = NewWal(wal_number, &wal);
    edit.log_number = wal_number;
  } else {
    edit.log_number = versions_->log_number();
  }
  if (s.ok()) s = versions_->LogAndApply(&edit, &l);
  if (s.ok()) {
    if (wal_ != nullptr) wal_->Close().IgnoreError();
    wal_ = std::move(wal);
    wal_number_ = wal_number;
    mem_ = std::make_shared<MemTable>();
    imm_.reset();
    has_imm_.store(false, std::memory_order_release);
    applied_index_.store(applied_index);
  }
  pending_outputs_.clear();
  DeleteObsoleteFiles(&l);
  ResumeBackground(&l);
  bg_cv_.notify_all();
  return s;
}

// ---------------------------------------------------------------- stats

uint64_t LsmEngine::ApproximateCount() const {
  IteratorPins pins = Pins();
  int64_t total = 0;
  auto add = [&](uint64_t entries, uint64_t deletions) {
    total += static_cast<int64_t>(entries) - 2 * static_cast<int64_t>(deletions);
  };
  add(pins.mem->num_entries(), pins.mem->num_deletions());
  if (pins.imm) add(pins.imm->num_entries(), pins.imm->num_deletions());
  for (int level = 0; level < kNumLevels; level++) {
    for (const auto& f : pins.version->files[level]) add(f->num_entries, f->num_deletions);
  }
  return total > 0 ? static_cast<uint64_t>(total) : 0;
}

EngineStats LsmEngine::Stats() const {
  EngineStats st;
  IteratorPins pins = Pins();
  st.keys = ApproximateCount();
  st.memory_bytes = pins.mem->ApproximateMemoryUsage() + block_cache_->usage() +
                    table_cache_->MemoryUsage();
  if (pins.imm) st.memory_bytes += pins.imm->ApproximateMemoryUsage();
  std::string levels;
  for (int level = 0; level < kNumLevels; level++) {
    st.disk_bytes += pins.version->LevelBytes(level);
    if (level > 0) levels += "/";
    levels += std::to_string(pins.version->files[level].size());
  }
  if (wal_ != nullptr) st.disk_bytes += wal_->size();
  st.cache_hits = block_cache_->hits();
  st.cache_misses = block_cache_->misses();
  st.flushes = flushes_.load();
  st.compactions = compactions_.load();
  st.user_bytes_written = user_bytes_written_.load();
  st.disk_bytes_written = disk_bytes_written_.load();
  st.extra.emplace_back("lsm_files_per_level", levels);
  st.extra.emplace_back("lsm_trivial_moves", std::to_string(trivial_moves_.load()));
  st.extra.emplace_back("lsm_seek_compactions", std::to_string(versions_->seek_compactions()));
  st.extra.emplace_back("lsm_compaction_pieces", std::to_string(partial_installs_.load()));
  st.extra.emplace_back("lsm_write_stalls", std::to_string(stalls_.load()));
  st.extra.emplace_back("lsm_last_sequence", std::to_string(versions_->last_sequence()));
  return st;
}

}  // namespace lsm
}  // namespace ringkv::storage
