// BenchDb: the one small interface the engine benchmark drives, with an
// adapter per engine (ours through storage::Engine, RocksDB, LevelDB, LMDB
// through their own APIs). Every adapter runs with the same durability: a
// write-ahead log (or LMDB's copy-on-write commit) handed to the OS on every
// write, fsync only when opened with sync = true.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ringkv::bench {

struct BenchDbOptions {
  std::string dir;
  bool sync = false;                       // fsync before every write returns
  size_t write_buffer_bytes = 8 << 20;     // memtable size for the LSM engines
  size_t block_cache_bytes = 256 << 20;  // the server's default budget
};

class BenchDb {
 public:
  virtual ~BenchDb() = default;
  // Each returns false on an error (the benchmark aborts).
  virtual bool Put(std::string_view key, std::string_view value) = 0;
  virtual bool Get(std::string_view key, std::string* value, bool* found) = 0;
  virtual bool Delete(std::string_view key) = 0;
  // Reads up to n pairs starting at the first key >= start; returns how many.
  virtual size_t Scan(std::string_view start, size_t n) = 0;
  // Writes what the engine still holds only in memory and its log (memtable,
  // dirty pages) to its files, so write amplification and bytes on disk count
  // it. Not timed.
  virtual bool Flush() { return true; }
  // Our engines: the engine's own write counters (EngineStats::user_bytes_written
  // and disk_bytes_written: WAL + journal + page file for the btree). False
  // for the reference engines.
  virtual bool WriteCounters(uint64_t* user_bytes, uint64_t* disk_bytes) {
    (void)user_bytes;
    (void)disk_bytes;
    return false;
  }
};

std::unique_ptr<BenchDb> OpenRocksDb(const BenchDbOptions& o, std::string* error);
std::unique_ptr<BenchDb> OpenLevelDb(const BenchDbOptions& o, std::string* error);
std::unique_ptr<BenchDb> OpenLmdb(const BenchDbOptions& o, std::string* error);
// std::unordered_map, in memory only: the hash engine's read baseline.
std::unique_ptr<BenchDb> OpenUnorderedMap(const BenchDbOptions& o, std::string* error);

}  // namespace ringkv::bench
