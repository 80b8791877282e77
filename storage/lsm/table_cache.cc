#include "storage/lsm/table_cache.h"

#include "storage/lsm/filename.h"

namespace ringkv::storage::lsm {
namespace {
constexpr int kMaxMappedTables = 4096;
}  // namespace

Result<std::shared_ptr<Table>> TableCache::Get(const FileMeta& file) {
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = tables_.find(file.number);
    if (it != tables_.end()) return it->second;
  }
  // Open outside the lock; two threads may race to open the same table, and the
  // loser's copy is simply dropped.
  std::unique_ptr<RandomAccessFile> f;
  const std::string path = TableFileName(dir_, file.number);
  // Map while the process holds fewer than kMaxMappedTables mappings (like
  // LevelDB's mmap limit; vm.max_map_count is finite and shared by all shards);
  // past that, tables are read with pread through the block cache.
  bool mapped = false;
  if (Table::MappedTables() < kMaxMappedTables) {
    Status ms = env_->NewMappedFile(path, &f);
    mapped = ms.ok();
    if (!mapped && ms.code() != Status::Code::kNotSupported) return ms;
  }
  if (!mapped) RINGKV_RETURN_IF_ERROR(env_->NewRandomAccessFile(path, &f));
  auto table = Table::Open(std::move(f), file.file_size, file.number, block_cache_, mapped);
  if (!table.ok()) {
    return Status(table.status().code() == Status::Code::kCorruption
                      ? Status::Corruption("sstable " + std::to_string(file.number) + ": " +
                                           table.status().message())
                      : table.status());
  }
  std::lock_guard<std::mutex> l(mu_);
  auto [it, inserted] = tables_.emplace(file.number, table.value());
  return it->second;
}

void TableCache::Evict(uint64_t file_number) {
  std::lock_guard<std::mutex> l(mu_);
  tables_.erase(file_number);
}

size_t TableCache::MemoryUsage() const {
  std::lock_guard<std::mutex> l(mu_);
  size_t total = 0;
  for (const auto& [n, t] : tables_) total += t->MemoryUsage();
  return total;
}

}  // namespace ringkv::storage::lsm
