#include "storage/lsm/table.h"

#include "storage/lsm/bloom.h"
#include "storage/lsm/table_format.h"

namespace ringkv::storage::lsm {

Result<std::shared_ptr<Table>> Table::Open(std::unique_ptr<RandomAccessFile> file,
                                           uint64_t file_size, uint64_t file_number,
                                           BlockCache* cache) {
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
  return table;
}

Result<std::shared_ptr<const Block>> Table::BlockFor(std::string_view encoded_handle,
                                                     bool fill_cache) const {
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
  auto block = BlockFor(handle, /*fill_cache=*/true);
  if (!block.ok()) return block.status();
  std::string_view v;
  RINGKV_RETURN_IF_ERROR(block.value()->Find(key.internal_key(), &scratch, &hit, &v));
  if (!hit) return Status::OK();
  ParsedInternalKey parsed;
  if (!ParseInternalKey(scratch, &parsed)) return Status::Corruption("sstable internal key");
  if (parsed.user_key != key.user_key()) return Status::OK();
  *found = true;
  *type = parsed.type;
  if (parsed.type == ValueType::kValue) value->assign(v.data(), v.size());
  return Status::OK();
}

// Walks the index block and, for each entry, the data block it names.
class Table::TwoLevelIterator final : public InternalIterator {
 public:
  TwoLevelIterator(std::shared_ptr<const Table> table, bool fill_cache)
      : table_(std::move(table)), fill_cache_(fill_cache),
        index_it_(table_->index_->NewIterator(nullptr)) {}

  bool Valid() const override { return data_it_ != nullptr && data_it_->Valid(); }
  std::string_view key() const override { return data_it_->key(); }
  std::string_view value() const override { return data_it_->value(); }
  Status status() const override {
    if (!index_it_->status().ok()) return index_it_->status();
    if (!status_.ok()) return status_;
    if (data_it_ != nullptr) return data_it_->status();
    return Status::OK();
  }

  void SeekToFirst() override {
    index_it_->SeekToFirst();
    LoadBlock();
    if (data_it_ != nullptr) data_it_->SeekToFirst();
    SkipEmptyBlocks();
  }
  void Seek(std::string_view target) override {
    index_it_->Seek(target);
    LoadBlock();
    if (data_it_ != nullptr) data_it_->Seek(target);
    SkipEmptyBlocks();
  }
  void Next() override {
    data_it_->Next();
    SkipEmptyBlocks();
  }

 private:
  void LoadBlock() {
    data_it_.reset();
    block_.reset();
    if (!index_it_->Valid() || !status_.ok()) return;
    auto block = table_->BlockFor(index_it_->value(), fill_cache_);
    if (!block.ok()) {
      status_ = block.status();
      return;
    }
    block_ = std::move(block.value());
    data_it_ = block_->NewIterator(nullptr);  // block_ keeps it alive
  }
  // Moves to the next non-empty block; stops (invalid) at the end or on an error.
  void SkipEmptyBlocks() {
    while (data_it_ == nullptr || !data_it_->Valid()) {
      if (data_it_ != nullptr && !data_it_->status().ok()) return;
      if (!status_.ok() || !index_it_->Valid()) {
        data_it_.reset();
        return;
      }
      index_it_->Next();
      LoadBlock();
      if (data_it_ != nullptr) data_it_->SeekToFirst();
    }
  }

  std::shared_ptr<const Table> table_;
  bool fill_cache_;
  std::unique_ptr<InternalIterator> index_it_;
  std::shared_ptr<const Block> block_;
  std::unique_ptr<InternalIterator> data_it_;
  Status status_;
};

std::unique_ptr<InternalIterator> Table::NewIterator(bool fill_cache) const {
  return std::make_unique<TwoLevelIterator>(shared_from_this(), fill_cache);
}

}  // namespace ringkv::storage::lsm
