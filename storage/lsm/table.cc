#include "storage/lsm/table.h"

#include <optional>

#include "storage/base/check.h"
#include "storage/lsm/bloom.h"
#include "storage/lsm/table_format.h"

namespace ringkv::storage::lsm {

std::atomic<int> Table::mapped_tables_{0};

Table::~Table() {
  if (mapped_) mapped_tables_.fetch_sub(1, std::memory_order_relaxed);
}

Result<std::shared_ptr<Table>> Table::Open(std::unique_ptr<RandomAccessFile> file,
                                           uint64_t file_size, uint64_t file_number,
                                           BlockCache* cache, bool mapped) {
  if (file_size < kFooterBytes) return Status::Corruption("sstable too short for a footer");
  char buf[kFooterBytes];
  std::string_view footer_bytes;
  RINGKV_RETURN_IF_ERROR(file->Read(file_size - kFooterBytes, kFooterBytes, buf, &footer_bytes));
  Footer footer;
  RINGKV_RETURN_IF_ERROR(footer.DecodeFrom(footer_bytes));
  std::shared_ptr<Table> table(new Table());
  auto index = ReadBlock(file.get(), footer.index);
  if (!index.ok()) return index.status();
  table->index_ = std::move(index.value());
  RINGKV_RETURN_IF_ERROR(ReadBlockContents(file.get(), footer.filter, &table->filter_));
  table->file_ = std::move(file);
  table->file_number_ = file_number;
  table->cache_ = cache;
  table->mapped_ = mapped;
  if (mapped) {
    mapped_tables_.fetch_add(1, std::memory_order_relaxed);
    table->verified_words_ = static_cast<size_t>(file_size / 8 / 64 + 1);
    table->verified_ = std::make_unique<std::atomic<uint64_t>[]>(table->verified_words_);
    for (size_t i = 0; i < table->verified_words_; i++) table->verified_[i].store(0, std::memory_order_relaxed);
  }
  return table;
}

Status Table::MappedBlock(const BlockHandle& handle, std::string_view* contents) const {
  uint64_t bit = handle.offset / 8;
  size_t word = static_cast<size_t>(bit / 64);
  if (word >= verified_words_) return Status::Corruption("sstable block handle offset");
  uint64_t mask = uint64_t{1} << (bit % 64);
  // Acquire pairs with the release below: a thread that sees the bit also sees
  // that the check happened (the bytes themselves never change).
  bool verified = (verified_[word].load(std::memory_order_acquire) & mask) != 0;
  RINGKV_RETURN_IF_ERROR(MappedBlockContents(file_.get(), handle, !verified, contents));
  if (!verified) verified_[word].fetch_or(mask, std::memory_order_release);
  return Status::OK();
}

Status Table::LoadMappedBlock(std::string_view encoded_handle, std::optional<Block>* block) const {
  BlockHandle handle;
  if (!handle.DecodeFrom(&encoded_handle)) return Status::Corruption("sstable index entry handle");
  std::string_view contents;
  RINGKV_RETURN_IF_ERROR(MappedBlock(handle, &contents));
  // Borrows the mapping: the caller holds the table, so the mapping outlives it.
  block->emplace(contents, Block::Borrow{});
  if (!(*block)->ok()) return Status::Corruption("malformed sstable block");
  return Status::OK();
}

void Table::PrefetchMappedBlock(std::string_view encoded_handle) const {
  BlockHandle handle;
  if (!handle.DecodeFrom(&encoded_handle) || handle.size < 4) return;
  std::string_view bytes;
  if (!file_->Read(handle.offset, static_cast<size_t>(handle.size), nullptr, &bytes).ok() ||
      bytes.size() != handle.size) {
    return;  // the load itself reports it
  }
  // Prefetches never fault: an address outside the mapping is simply dropped.
  __builtin_prefetch(bytes.data());
  __builtin_prefetch(bytes.data() + 64);
  __builtin_prefetch(bytes.data() + bytes.size() - 4);
  const size_t word = static_cast<size_t>(handle.offset / 8 / 64);
  if (word < verified_words_) __builtin_prefetch(&verified_[word]);
}

Result<std::shared_ptr<const Block>> Table::BlockFor(std::string_view encoded_handle,
                                                     bool fill_cache) const {
  RINGKV_CHECK(!mapped_);
  BlockHandle handle;
  if (!handle.DecodeFrom(&encoded_handle)) return Status::Corruption("sstable index entry handle");
  if (cache_ != nullptr) {
    std::shared_ptr<const Block> cached = cache_->Lookup(file_number_, handle.offset);
    if (cached != nullptr) return cached;
  }
  auto block = ReadBlock(file_.get(), handle);
  if (block.ok() && fill_cache && cache_ != nullptr) {
    cache_->Insert(file_number_, handle.offset, block.value());
  }
  return block;
}

Status Table::Get(const LookupKey& key, bool* found, ValueType* type, std::string* value) const {
  *found = false;
  if (!BloomMayContain(filter_, key.user_key())) return Status::OK();
  // Reused per thread: the Get path allocates nothing once warm.
  thread_local std::string scratch;
  bool hit = false;
  std::string_view handle;
  RINGKV_RETURN_IF_ERROR(index_->Find(key.internal_key(), &scratch, &hit, &handle));
  if (!hit) return Status::OK();
  std::string_view v;
  if (mapped_) {
    // A borrowing Block on the stack: no allocation on the mapped Get path.
    std::optional<Block> block;
    RINGKV_RETURN_IF_ERROR(LoadMappedBlock(handle, &block));
    RINGKV_RETURN_IF_ERROR(block->Find(key.internal_key(), &scratch, &hit, &v));
  } else {
    auto block = BlockFor(handle, /*fill_cache=*/true);
    if (!block.ok()) return block.status();
    RINGKV_RETURN_IF_ERROR(block.value()->Find(key.internal_key(), &scratch, &hit, &v));
  }
  if (!hit) return Status::OK();
  ParsedInternalKey parsed;
  if (!ParseInternalKey(scratch, &parsed)) return Status::Corruption("sstable internal key");
  if (parsed.user_key != key.user_key()) return Status::OK();
  *found = true;
  *type = parsed.type;
  if (parsed.type == ValueType::kValue) value->assign(v.data(), v.size());
  return Status::OK();
}

// Walks the index block and, for each entry, the data block it names. Both
// cursors live in the iterator and are pointed at each new block, so crossing a
// block allocates nothing on the mapped path (the block is a view held by value)
// and one shared_ptr copy on the cached path.
class Table::TwoLevelIterator final : public InternalIterator {
 public:
  TwoLevelIterator(std::shared_ptr<const Table> table, bool fill_cache)
      : table_(std::move(table)), fill_cache_(fill_cache), index_it_(*table_->index_) {}

  bool Valid() const override { return loaded_ && data_it_.Valid(); }
  std::string_view key() const override { return data_it_.key(); }
  std::string_view value() const override { return data_it_.value(); }
  Status status() const override {
    if (!index_it_.status().ok()) return index_it_.status();
    if (!status_.ok()) return status_;
    if (loaded_) return data_it_.status();
    return Status::OK();
  }

  void SeekToFirst() override {
    index_it_.SeekToFirst();
    LoadBlock();
    if (loaded_) data_it_.SeekToFirst();
    SkipEmptyBlocks();
  }
  void Seek(std::string_view target) override {
    index_it_.Seek(target);
    LoadBlock();
    if (loaded_) data_it_.Seek(target);
    SkipEmptyBlocks();
  }
  void Next() override {
    data_it_.Next();
    if (!data_it_.Valid()) SkipEmptyBlocks();
  }

 private:
  void LoadBlock() {
    loaded_ = false;
    cached_.reset();
    if (!index_it_.Valid() || !status_.ok()) return;
    if (table_->mapped_) {
      status_ = table_->LoadMappedBlock(index_it_.value(), &mapped_);
      if (!status_.ok()) return;
      data_it_.Reset(*mapped_);
      std::string_view next_handle;
      if (index_it_.PeekNextValue(&next_handle)) table_->PrefetchMappedBlock(next_handle);
    } else {
      auto block = table_->BlockFor(index_it_.value(), fill_cache_);
      if (!block.ok()) {
        status_ = block.status();
        return;
      }
      cached_ = std::move(block.value());
      data_it_.Reset(*cached_);
    }
    loaded_ = true;
  }
  // Moves to the next non-empty block; stops (invalid) at the end or on an error.
  void SkipEmptyBlocks() {
    // Bounded by the number of index entries.
    while (!loaded_ || !data_it_.Valid()) {
      if (loaded_ && !data_it_.status().ok()) return;
      if (!status_.ok() || !index_it_.Valid()) {
        loaded_ = false;
        return;
      }
      index_it_.Next();
      LoadBlock();
      if (loaded_) data_it_.SeekToFirst();
    }
  }

  std::shared_ptr<const Table> table_;
  bool fill_cache_;
  BlockCursor index_it_;
  // The current data block: a view over the mapping, or a cached block it holds.
  std::optional<Block> mapped_;
  std::shared_ptr<const Block> cached_;
  BlockCursor data_it_;
  bool loaded_ = false;  // data_it_ points at the block for index_it_'s entry
  Status status_;
};

std::unique_ptr<InternalIterator> Table::NewIterator(bool fill_cache) const {
  return std::make_unique<TwoLevelIterator>(shared_from_this(), fill_cache);
}

}  // namespace ringkv::storage::lsm
