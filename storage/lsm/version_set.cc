#include "storage/lsm/version_set.h"

#include <algorithm>
#include <utility>

#include "storage/lsm/filename.h"
#include "storage/lsm/log_reader.h"

namespace ringkv::storage::lsm {
namespace {

std::string_view UserKeyOf(const std::string& ikey) { return ExtractUserKey(ikey); }

// Index of the first file in a sorted level whose largest key >= ikey.
size_t FindFile(const std::vector<FileRef>& files, std::string_view ikey) {
  size_t lo = 0, hi = files.size();
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (CompareInternalKey(files[mid]->largest, ikey) < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

// Concatenates the tables of one sorted, non-overlapping level, opening each
// table only when the iterator reaches it.
class LevelIterator final : public InternalIterator {
 public:
  // `version` keeps `files` alive (no per-iterator copy of the file list).
  LevelIterator(TableCache* tables, std::shared_ptr<const Version> version,
                const std::vector<FileRef>* files, bool fill_cache)
      : tables_(tables), version_(std::move(version)), files_(*files), fill_cache_(fill_cache) {}

  bool Valid() const override { return it_ != nullptr && it_->Valid(); }
  std::string_view key() const override { return it_->key(); }
  std::string_view value() const override { return it_->value(); }
  Status status() const override {
    if (!status_.ok()) return status_;
    return it_ != nullptr ? it_->status() : Status::OK();
  }
  void SeekToFirst() override {
    Open(0);
    if (it_ != nullptr) it_->SeekToFirst();
    SkipEmpty();
  }
  void Seek(std::string_view target) override {
    Open(FindFile(files_, target));
    if (it_ != nullptr) it_->Seek(target);
    SkipEmpty();
  }
  void Next() override {
    it_->Next();
    SkipEmpty();
  }

 private:
  void Open(size_t index) {
    it_.reset();
    index_ = index;
    if (index >= files_.size() || !status_.ok()) return;
    auto table = tables_->Get(*files_[index]);
    if (!table.ok()) {
      status_ = table.status();
      return;
    }
    it_ = table.value()->NewIterator(fill_cache_);
  }
  void SkipEmpty() {
    // Bounded by the number of files.
    while (it_ != nullptr && !it_->Valid() && it_->status().ok()) {
      Open(index_ + 1);
      if (it_ != nullptr) it_->SeekToFirst();
    }
  }

  TableCache* tables_;
  std::shared_ptr<const Version> version_;
  const std::vector<FileRef>& files_;
  bool fill_cache_;
  size_t index_ = 0;
  std::unique_ptr<InternalIterator> it_;
  Status status_;
};

}  // namespace

uint64_t Version::LevelBytes(int level) const {
  uint64_t total = 0;
  for (const auto& f : files[level]) total += f->file_size;
  return total;
}

template <typename Visit>
void Version::ForEachFileFor(std::string_view user_key, std::string_view internal_key,
                             Visit&& visit) const {
  for (const auto& f : files[0]) {  // newest first
    if (user_key < UserKeyOf(f->smallest) || user_key > UserKeyOf(f->largest)) continue;
    if (!visit(*f, 0)) return;
  }
  for (int level = 1; level < kNumLevels; level++) {
    const auto& fs = files[level];
    if (fs.empty()) continue;
    size_t i = FindFile(fs, internal_key);
    if (i >= fs.size() || user_key < UserKeyOf(fs[i]->smallest)) continue;
    if (!visit(*fs[i], level)) return;
  }
}

namespace {

// Follows the files a read consults, in order: when it gets to a second one,
// the first was looked past, and is charged if it is in level 0.
class LookPast {
 public:
  void Consult(const FileMeta& f, int level) {
    if (consulted_ == 0 && level == 0) first_l0_ = &f;
    if (consulted_++ == 1) charge_.file = first_l0_;
  }
  // After Consult: whether a further file could still change the charge. Only
  // the second file consulted does, and only after a level-0 first.
  bool MayCharge() const { return consulted_ < 2 && first_l0_ != nullptr; }
  SeekCharge charge() const { return charge_; }

 private:
  const FileMeta* first_l0_ = nullptr;
  int consulted_ = 0;
  SeekCharge charge_;
};

}  // namespace

Status Version::Get(TableCache* tables, const LookupKey& key, bool* found, ValueType* type,
                    std::string* value, SeekCharge* charge) const {
  *found = false;
  LookPast look;
  Status s;
  ForEachFileFor(key.user_key(), key.internal_key(), [&](const FileMeta& f, int level) {
    look.Consult(f, level);
    auto table = tables->Get(f);
    s = table.ok() ? table.value()->Get(key, found, type, value) : table.status();
    return s.ok() && !*found;
  });
  *charge = look.charge();
  return s;
}

SeekCharge Version::ReadSample(std::string_view user_key) const {
  LookPast look;
  LookupKey lk(user_key, kMaxSequence);
  ForEachFileFor(user_key, lk.internal_key(), [&](const FileMeta& f, int level) {
    look.Consult(f, level);
    return look.MayCharge();
  });
  return look.charge();
}

void Version::AddIterators(const std::shared_ptr<const Version>& self, TableCache* tables,
                           bool fill_cache,
                           std::vector<std::unique_ptr<InternalIterator>>* out) const {
  RINGKV_CHECK(self.get() == this);
  for (const auto& f : files[0]) {
    auto table = tables->Get(*f);
    if (!table.ok()) {
      out->push_back(std::make_unique<ErrorIterator>(table.status()));
    } else {
      out->push_back(table.value()->NewIterator(fill_cache));
    }
  }
  for (int level = 1; level < kNumLevels; level++) {
    if (!files[level].empty()) {
      out->push_back(std::make_unique<LevelIterator>(tables, self, &files[level], fill_cache));
    }
  }
}

std::vector<FileRef> Version::Overlapping(int level, std::string_view smallest,
                                          std::string_view largest) const {
  std::vector<FileRef> out;
  for (const auto& f : files[level]) {
    if (UserKeyOf(f->largest) < smallest || UserKeyOf(f->smallest) > largest) continue;
    out.push_back(f);
  }
  return out;
}

bool Compaction::IsBaseLevelForKey(std::string_view user_key) {
  for (int lvl = level + 2; lvl < kNumLevels; lvl++) {
    const auto& files = deeper[lvl];
    // Keys arrive in ascending order, so each level's pointer only moves forward.
    while (level_ptrs_[lvl] < files.size()) {
      const FileMeta& f = *files[level_ptrs_[lvl]];
      if (user_key <= UserKeyOf(f.largest)) {
        if (user_key >= UserKeyOf(f.smallest)) return false;
        break;
      }
      level_ptrs_[lvl]++;
    }
  }
  return true;
}

VersionSet::VersionSet(Env* env, std::string dir, TableCache* tables, Limits limits)
    : env_(env), dir_(std::move(dir)), tables_(tables), limits_(limits),
      current_(std::make_shared<const Version>()) {
  versions_.push_back(current_);
}

uint64_t VersionSet::MaxBytesForLevel(int level) const {
  uint64_t bytes = limits_.base_level_bytes;
  for (int i = 1; i < level; i++) bytes *= 10;
  return bytes;
}

std::shared_ptr<const Version> VersionSet::Apply(const Version& base,
                                                 const VersionEdit& edit) const {
  auto v = std::make_shared<Version>();
  for (int level = 0; level < kNumLevels; level++) {
    for (const auto& f : base.files[level]) {
      bool deleted = false;
      for (const auto& [l, n] : edit.deleted_files) {
        if (l == level && n == f->number) deleted = true;
      }
      if (!deleted) v->files[level].push_back(f);
    }
  }
  for (const auto& [level, f] : edit.new_files) {
    v->files[level].push_back(std::make_shared<const FileMeta>(f));
  }
  std::sort(v->files[0].begin(), v->files[0].end(),
            [](const FileRef& a, const FileRef& b) { return a->number > b->number; });
  for (int level = 1; level < kNumLevels; level++) {
    auto& fs = v->files[level];
    std::sort(fs.begin(), fs.end(), [](const FileRef& a, const FileRef& b) {
      return CompareInternalKey(a->smallest, b->smallest) < 0;
    });
    for (size_t i = 1; i < fs.size(); i++) {
      // A broken non-overlap invariant would make reads return wrong values.
      RINGKV_CHECK_MSG(UserKeyOf(fs[i - 1]->largest) < UserKeyOf(fs[i]->smallest),
                       "overlapping files in a sorted level");
    }
  }
  return v;
}

Status VersionSet::Recover(bool* exists) {
  std::string current;
  if (!env_->FileExists(CurrentFileName(dir_))) {
    *exists = false;
    return Status::OK();
  }
  *exists = true;
  RINGKV_RETURN_IF_ERROR(ReadFileToString(env_, CurrentFileName(dir_), &current));
  if (current.empty() || current.back() != '\n') return Status::Corruption("CURRENT file malformed");
  current.pop_back();
  uint64_t number = 0;
  if (ParseFileName(current, &number) != FileKind::kManifest) {
    return Status::Corruption("CURRENT names no MANIFEST: " + current);
  }
  auto base = std::make_shared<const Version>();
  std::optional<uint64_t> next_file, last_seq, log_number, applied;
  LogReadResult stats;
  Status s = ReadLog(env_, ManifestFileName(dir_, number), [&](std::string_view record) {
    VersionEdit edit;
    RINGKV_RETURN_IF_ERROR(edit.DecodeFrom(record));
    base = Apply(*base, edit);
    if (edit.next_file_number) next_file = edit.next_file_number;
    if (edit.last_sequence) last_seq = edit.last_sequence;
    if (edit.log_number) log_number = edit.log_number;
    if (edit.applied_index) applied = edit.applied_index;
    return Status::OK();
  }, &stats);
  if (!s.ok()) {
    return s.IsCorruption() ? Status::Corruption("MANIFEST: " + s.message()) : s;
  }
  if (!next_file || !last_seq || !log_number) {
    return Status::Corruption("MANIFEST lacks next file number, last sequence or log number");
  }
  current_ = base;
  versions_.push_back(current_);
  next_file_number_ = std::max(*next_file, number + 1);
  last_sequence_ = *last_seq;
  log_number_ = *log_number;
  applied_index_ = applied.value_or(0);
  ComputeScore(*current_);
  return Status::OK();
}

Status VersionSet::WriteSnapshot(LogWriter* writer, const Version& v) {
  VersionEdit snap;
  snap.log_number = log_number_;
  snap.next_file_number = next_file_number_.load();
  snap.last_sequence = last_sequence();
  snap.applied_index = applied_index_;
  for (int level = 0; level < kNumLevels; level++) {
    for (const auto& f : v.files[level]) snap.new_files.emplace_back(level, *f);
  }
  std::string rec;
  snap.EncodeTo(&rec);
  return writer->AddRecord(rec, /*sync=*/false);
}

Status VersionSet::SetCurrentFile(uint64_t manifest_number) {
  std::string name = ManifestFileName(dir_, manifest_number);
  name = name.substr(dir_.size() + 1) + "\n";
  RINGKV_RETURN_IF_ERROR(WriteStringToFile(env_, name, CurrentTempFileName(dir_), /*sync=*/true));
  RINGKV_RETURN_IF_ERROR(env_->RenameFile(CurrentTempFileName(dir_), CurrentFileName(dir_)));
  return env_->SyncDir(dir_);
}

Status VersionSet::LogAndApply(VersionEdit* edit, std::unique_lock<std::mutex>* lock) {
  if (!edit->log_number) edit->log_number = log_number_;
  if (!edit->applied_index) edit->applied_index = applied_index_;
  std::shared_ptr<const Version> base = current_;
  std::shared_ptr<const Version> next = Apply(*base, *edit);

  // A new MANIFEST starts with a snapshot of the version before this edit.
  bool new_manifest = manifest_ == nullptr;
  uint64_t manifest_number = manifest_number_;
  if (new_manifest) manifest_number = NewFileNumber();
  edit->next_file_number = next_file_number_.load();
  edit->last_sequence = last_sequence();
  std::string record;
  edit->EncodeTo(&record);

  lock->unlock();
  Status s;
  std::unique_ptr<LogWriter> writer;
  if (new_manifest) {
    std::unique_ptr<WritableFile> file;
    s = env_->NewWritableFile(ManifestFileName(dir_, manifest_number), &file);
    if (s.ok()) {
      writer = std::make_unique<LogWriter>(std::move(file));
      s = WriteSnapshot(writer.get(), *base);
    }
  }
  LogWriter* w = new_manifest ? writer.get() : manifest_.get();
  if (s.ok()) s = w->AddRecord(record, /*sync=*/true);
  if (s.ok() && new_manifest) s = SetCurrentFile(manifest_number);
  lock->lock();

  if (!s.ok()) {
    // The MANIFEST may now end in a partial record; start a fresh one next time.
    if (!new_manifest) manifest_.reset();
    return s;
  }
  if (new_manifest) {
    manifest_ = std::move(writer);
    manifest_number_ = manifest_number;
  }
  current_ = std::move(next);
  versions_.push_back(current_);
  log_number_ = *edit->log_number;
  applied_index_ = *edit->applied_index;
  ComputeScore(*current_);
  return Status::OK();
}

void VersionSet::ComputeScore(const Version& v) {
  best_level_ = -1;
  best_score_ = 0;
  for (int level = 0; level < kNumLevels - 1; level++) {
    double score;
    if (level == 0) {
      score = static_cast<double>(v.files[0].size()) /
              static_cast<double>(limits_.l0_compaction_trigger);
    } else {
      score = static_cast<double>(v.LevelBytes(level)) /
              static_cast<double>(MaxBytesForLevel(level));
    }
    if (score > best_score_) {
      best_score_ = score;
      best_level_ = level;
    }
  }
}

std::unique_ptr<Compaction> VersionSet::PickCompaction() {
  const Version& v = *current_;
  int level = best_level_;
  if (best_score_ < 1.0 || best_level_ < 0) {
    const uint64_t wanted = std::exchange(seek_file_number_, 0);
    // A seek-budget request: level 0, unless its file was compacted away meanwhile.
    if (wanted == 0 || std::none_of(v.files[0].begin(), v.files[0].end(),
                                    [&](const FileRef& f) { return f->number == wanted; })) {
      return nullptr;
    }
    level = 0;
    seek_compactions_.fetch_add(1, std::memory_order_relaxed);
  }
  auto c = std::make_unique<Compaction>();
  c->level = level;
  for (int lvl = c->level + 2; lvl < kNumLevels; lvl++) c->deeper[lvl] = v.files[lvl];
  if (c->level == 0) {
    // The oldest files (the tail: level 0 is newest first). Moving older files
    // below newer ones keeps the rule that a newer version of a key never sits
    // below an older one; the newer files stay in level 0, read first.
    uint64_t bytes = 0;
    const uint64_t cap = limits_.l0_compaction_input_bytes;
    for (auto it = v.files[0].rbegin(); it != v.files[0].rend(); ++it) {
      if (!c->inputs[0].empty() && cap != 0 && bytes + (*it)->file_size > cap) break;
      bytes += (*it)->file_size;
      c->inputs[0].push_back(*it);
    }
  } else {
    const auto& fs = v.files[c->level];
    const std::string& ptr = compact_pointer_[c->level];
    size_t i = 0;
    while (i < fs.size() && !ptr.empty() && UserKeyOf(fs[i]->largest) <= ptr) i++;
    if (i == fs.size()) i = 0;  // wrap around
    c->inputs[0].push_back(fs[i]);
    compact_pointer_[c->level] = std::string(UserKeyOf(fs[i]->largest));
  }
  std::string smallest(UserKeyOf(c->inputs[0].front()->smallest));
  std::string largest(UserKeyOf(c->inputs[0].front()->largest));
  for (const auto& f : c->inputs[0]) {
    std::string_view s = UserKeyOf(f->smallest), l = UserKeyOf(f->largest);
    if (s < smallest) smallest = s;
    if (l > largest) largest = l;
  }
  c->inputs[1] = v.Overlapping(c->level + 1, smallest, largest);
  return c;
}

std::set<uint64_t> VersionSet::LiveFiles() {
  std::set<uint64_t> live;
  for (auto it = versions_.begin(); it != versions_.end();) {
    std::shared_ptr<const Version> v = it->lock();
    if (v == nullptr) {
      it = versions_.erase(it);
      continue;
    }
    for (int level = 0; level < kNumLevels; level++) {
      for (const auto& f : v->files[level]) live.insert(f->number);
    }
    ++it;
  }
  return live;
}

}  // namespace ringkv::storage::lsm
