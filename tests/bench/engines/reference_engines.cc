// Adapters for the reference engines (RocksDB, LevelDB, LMDB). Settings chosen
// to match ours: 8 MiB memtables, 64 MiB block cache, 10 bits/key bloom
// filters, no compression (the benchmark's values are random bytes), WAL on
// and fsync only when BenchDbOptions::sync.
#include <sys/stat.h>

#include <chrono>
#include <string>
#include <thread>
#include <unordered_map>

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/write_batch.h>
#include <lmdb.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

#include "tests/bench/engines/bench_db.h"

namespace ringkv::bench {
namespace {

enum class Poll { kDone, kBusy, kFailed };

// Calls probe every `period` until it answers kDone (true) or kFailed, or 10
// minutes pass (false): the wait for a reference engine's background work,
// which it shows only through properties.
template <typename Probe>
bool PollUntilDone(std::chrono::milliseconds period, Probe probe) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  while (std::chrono::steady_clock::now() < deadline) {
    Poll p = probe();
    if (p != Poll::kBusy) return p == Poll::kDone;
    std::this_thread::sleep_for(period);
  }
  return false;
}

class RocksBench final : public BenchDb {
 public:
  ~RocksBench() override { delete db_; }
  bool Open(const BenchDbOptions& o, std::string* error) {
    rocksdb::Options opts;
    opts.create_if_missing = true;
    opts.write_buffer_size = o.write_buffer_bytes;
    opts.compression = rocksdb::kNoCompression;
    rocksdb::BlockBasedTableOptions t;
    t.block_cache = rocksdb::NewLRUCache(o.block_cache_bytes);
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
    wopts_.sync = o.sync;
    rocksdb::Status s = rocksdb::DB::Open(opts, o.dir, &db_);
    if (!s.ok()) *error = s.ToString();
    return s.ok();
  }
  bool Put(std::string_view k, std::string_view v) override {
    return db_->Put(wopts_, rocksdb::Slice(k.data(), k.size()), rocksdb::Slice(v.data(), v.size())).ok();
  }
  bool Get(std::string_view k, std::string* v, bool* found) override {
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), rocksdb::Slice(k.data(), k.size()), v);
    *found = s.ok();
    return s.ok() || s.IsNotFound();
  }
  bool Delete(std::string_view k) override {
    return db_->Delete(wopts_, rocksdb::Slice(k.data(), k.size())).ok();
  }
  // Flush, then wait for the compactions behind the writes (this RocksDB,
  // Debian 12's 7.8, predates DB::WaitForCompact): every engine is measured
  // at rest after its flush.
  bool Flush() override {
    if (!db_->Flush(rocksdb::FlushOptions()).ok()) return false;
    return PollUntilDone(std::chrono::milliseconds(20), [&] {
      uint64_t pending = 0, running = 0, flushes = 0;
      if (!db_->GetIntProperty("rocksdb.compaction-pending", &pending) ||
          !db_->GetIntProperty("rocksdb.num-running-compactions", &running) ||
          !db_->GetIntProperty("rocksdb.num-running-flushes", &flushes)) {
        return Poll::kFailed;
      }
      return pending == 0 && running == 0 && flushes == 0 ? Poll::kDone : Poll::kBusy;
    });
  }
  size_t Scan(std::string_view start, size_t n) override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    size_t got = 0;
    for (it->Seek(rocksdb::Slice(start.data(), start.size())); it->Valid() && got < n; it->Next()) {
      got += it->key().size() > 0 && it->value().size() > 0;
    }
    return got;
  }

 private:
  rocksdb::DB* db_ = nullptr;
  rocksdb::WriteOptions wopts_;
};

class LevelBench final : public BenchDb {
 public:
  ~LevelBench() override {
    delete db_;
    delete cache_;
    delete filter_;
  }
  bool Open(const BenchDbOptions& o, std::string* error) {
    leveldb::Options opts;
    opts.create_if_missing = true;
    opts.write_buffer_size = o.write_buffer_bytes;
    opts.compression = leveldb::kNoCompression;
    cache_ = leveldb::NewLRUCache(o.block_cache_bytes);
    filter_ = leveldb::NewBloomFilterPolicy(10);
    opts.block_cache = cache_;
    opts.filter_policy = filter_;
    wopts_.sync = o.sync;
    leveldb::Status s = leveldb::DB::Open(opts, o.dir, &db_);
    if (!s.ok()) *error = s.ToString();
    return s.ok();
  }
  bool Put(std::string_view k, std::string_view v) override {
    return db_->Put(wopts_, leveldb::Slice(k.data(), k.size()), leveldb::Slice(v.data(), v.size())).ok();
  }
  bool Get(std::string_view k, std::string* v, bool* found) override {
    leveldb::Status s = db_->Get(leveldb::ReadOptions(), leveldb::Slice(k.data(), k.size()), v);
    *found = s.ok();
    return s.ok() || s.IsNotFound();
  }
  bool Delete(std::string_view k) override {
    return db_->Delete(wopts_, leveldb::Slice(k.data(), k.size())).ok();
  }
  // LevelDB has no public memtable flush; CompactRange writes the memtable to
  // a table first, and a range past every key (keys are lowercase hex) adds
  // no level compaction.
  // Then it waits for the compactions behind the writes, as every engine is
  // measured at rest: LevelDB exposes no pending-work count, so the wait ends
  // when its per-level statistics (updated as each compaction ends) have not
  // changed for a second.
  bool Flush() override {
    const leveldb::Slice past_all("\xff");
    db_->CompactRange(&past_all, &past_all);
    std::string last;
    int unchanged = 0;
    return PollUntilDone(std::chrono::milliseconds(50), [&] {
      std::string stats;
      if (!db_->GetProperty("leveldb.stats", &stats)) return Poll::kFailed;
      unchanged = stats == last ? unchanged + 1 : 0;
      last = std::move(stats);
      return unchanged >= 20 ? Poll::kDone : Poll::kBusy;
    });
  }
  size_t Scan(std::string_view start, size_t n) override {
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
    size_t got = 0;
    for (it->Seek(leveldb::Slice(start.data(), start.size())); it->Valid() && got < n; it->Next()) {
      got += it->key().size() > 0 && it->value().size() > 0;
    }
    return got;
  }

 private:
  leveldb::DB* db_ = nullptr;
  leveldb::Cache* cache_ = nullptr;
  const leveldb::FilterPolicy* filter_ = nullptr;
  leveldb::WriteOptions wopts_;
};

// LMDB has no WAL: a committed write transaction is its durability unit. Without
// sync we open with MDB_NOSYNC (commits reach the OS, no fsync), the same
// process-crash durability as a WAL handed to the OS. One transaction per write.
class LmdbBench final : public BenchDb {
 public:
  ~LmdbBench() override {
    if (rtxn_ != nullptr) mdb_txn_abort(rtxn_);
    if (env_ != nullptr) mdb_env_close(env_);
  }
  bool Open(const BenchDbOptions& o, std::string* error) {
    mkdir(o.dir.c_str(), 0755);
    int rc = mdb_env_create(&env_);
    if (rc == 0) rc = mdb_env_set_mapsize(env_, size_t{16} << 30);
    if (rc == 0) rc = mdb_env_open(env_, o.dir.c_str(), o.sync ? 0 : MDB_NOSYNC, 0644);
    MDB_txn* txn = nullptr;
    if (rc == 0) rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc == 0) rc = mdb_dbi_open(txn, nullptr, 0, &dbi_);
    if (rc == 0) rc = mdb_txn_commit(txn);
    if (rc != 0) *error = mdb_strerror(rc);
    return rc == 0;
  }
  bool Put(std::string_view k, std::string_view v) override {
    return Write([&](MDB_txn* txn) {
      MDB_val key{k.size(), const_cast<char*>(k.data())};
      MDB_val val{v.size(), const_cast<char*>(v.data())};
      return mdb_put(txn, dbi_, &key, &val, 0);
    });
  }
  bool Delete(std::string_view k) override {
    return Write([&](MDB_txn* txn) {
      MDB_val key{k.size(), const_cast<char*>(k.data())};
      int rc = mdb_del(txn, dbi_, &key, nullptr);
      return rc == MDB_NOTFOUND ? 0 : rc;
    });
  }
  bool Get(std::string_view k, std::string* v, bool* found) override {
    if (!BeginRead()) return false;
    MDB_val key{k.size(), const_cast<char*>(k.data())};
    MDB_val val;
    int rc = mdb_get(rtxn_, dbi_, &key, &val);
    *found = rc == 0;
    if (rc == 0) v->assign(static_cast<const char*>(val.mv_data), val.mv_size);
    mdb_txn_reset(rtxn_);
    return rc == 0 || rc == MDB_NOTFOUND;
  }
  size_t Scan(std::string_view start, size_t n) override {
    if (!BeginRead()) return 0;
    MDB_cursor* cur = nullptr;
    size_t got = 0;
    if (mdb_cursor_open(rtxn_, dbi_, &cur) == 0) {
      MDB_val key{start.size(), const_cast<char*>(start.data())};
      MDB_val val;
      int rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
      while (rc == 0 && got < n) {
        got += key.mv_size > 0 && val.mv_size > 0;
        rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
      }
      mdb_cursor_close(cur);
    }
    mdb_txn_reset(rtxn_);
    return got;
  }

 private:
  template <typename Fn>
  bool Write(Fn&& fn) {
    MDB_txn* txn = nullptr;
    if (mdb_txn_begin(env_, nullptr, 0, &txn) != 0) return false;
    if (fn(txn) != 0) {
      mdb_txn_abort(txn);
      return false;
    }
    return mdb_txn_commit(txn) == 0;
  }
  // Reuses one read transaction (reset / renew) instead of allocating per read.
  bool BeginRead() {
    if (rtxn_ == nullptr) return mdb_txn_begin(env_, nullptr, MDB_RDONLY, &rtxn_) == 0;
    return mdb_txn_renew(rtxn_) == 0;
  }

  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
  MDB_txn* rtxn_ = nullptr;
};

// std::unordered_map<std::string, std::string>: the in-memory baseline for the
// hash engine's reads (no persistence, no ordered scan; Scan returns 0).
class UnorderedMapBench final : public BenchDb {
 public:
  bool Open(const BenchDbOptions&, std::string*) { return true; }
  bool Put(std::string_view k, std::string_view v) override {
    map_.insert_or_assign(std::string(k), std::string(v));
    return true;
  }
  bool Get(std::string_view k, std::string* v, bool* found) override {
    key_.assign(k);  // reused buffer: no allocation per lookup for short keys
    auto it = map_.find(key_);
    *found = it != map_.end();
    if (*found) v->assign(it->second);
    return true;
  }
  bool Delete(std::string_view k) override {
    key_.assign(k);
    map_.erase(key_);
    return true;
  }
  size_t Scan(std::string_view, size_t) override { return 0; }

 private:
  std::unordered_map<std::string, std::string> map_;
  std::string key_;
};

template <typename T>
std::unique_ptr<BenchDb> OpenAs(const BenchDbOptions& o, std::string* error) {
  auto db = std::make_unique<T>();
  if (!db->Open(o, error)) return nullptr;
  return db;
}

}  // namespace

std::unique_ptr<BenchDb> OpenRocksDb(const BenchDbOptions& o, std::string* error) {
  return OpenAs<RocksBench>(o, error);
}
std::unique_ptr<BenchDb> OpenLevelDb(const BenchDbOptions& o, std::string* error) {
  return OpenAs<LevelBench>(o, error);
}
std::unique_ptr<BenchDb> OpenLmdb(const BenchDbOptions& o, std::string* error) {
  return OpenAs<LmdbBench>(o, error);
}
std::unique_ptr<BenchDb> OpenUnorderedMap(const BenchDbOptions& o, std::string* error) {
  return OpenAs<UnorderedMapBench>(o, error);
}

}  // namespace ringkv::bench
