#include "storage/lsm/memtable.h"

#include <cstring>

#include "storage/base/coding.h"

namespace ringkv::storage::lsm {
namespace {

// Decodes a varint32 length prefix from an arena entry (always well formed:
// we wrote it), returning the bytes that follow.
inline std::string_view GetPrefixed(const char* p) {
  uint32_t len = 0;
  int shift = 0;
  while (true) {
    uint8_t b = static_cast<uint8_t>(*p++);
    len |= static_cast<uint32_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) break;
    shift += 7;
  }
  return std::string_view(p, len);
}

}  // namespace

int MemTable::KeyComparator::operator()(const char* a, const char* b) const {
  return CompareInternalKey(GetPrefixed(a), GetPrefixed(b));
}

MemTable::MemTable() : table_(KeyComparator(), &arena_) {}

void MemTable::Add(uint64_t sequence, ValueType type, std::string_view key,
                   std::string_view value) {
  size_t ikey_len = key.size() + kTagBytes;
  size_t total = VarintLength(ikey_len) + ikey_len + VarintLength(value.size()) + value.size();
  char* buf = arena_.AllocateAligned(total);
  char* p = EncodeVarint32(buf, static_cast<uint32_t>(ikey_len));
  std::memcpy(p, key.data(), key.size());
  p += key.size();
  EncodeFixed64(p, PackTag(sequence, type));
  p += kTagBytes;
  p = EncodeVarint32(p, static_cast<uint32_t>(value.size()));
  if (!value.empty()) std::memcpy(p, value.data(), value.size());
  RINGKV_DCHECK(p + value.size() == buf + total);
  table_.Insert(buf);
  num_entries_.fetch_add(1, std::memory_order_relaxed);
  if (type == ValueType::kDeletion) num_deletions_.fetch_add(1, std::memory_order_relaxed);
  payload_bytes_.fetch_add(key.size() + value.size(), std::memory_order_relaxed);
}

bool MemTable::Get(const LookupKey& key, std::string* value, bool* deleted) const {
  // Build a seek handle in the same entry format as the stored keys.
  std::string_view target = key.internal_key();
  char stack_buf[256];
  std::string heap_buf;
  char* buf = stack_buf;
  if (target.size() + 5 > sizeof(stack_buf)) {
    heap_buf.resize(target.size() + 5);
    buf = heap_buf.data();
  }
  char* p = EncodeVarint32(buf, static_cast<uint32_t>(target.size()));
  std::memcpy(p, target.data(), target.size());

  Table::Iterator it(&table_);
  it.Seek(buf);
  if (!it.Valid()) return false;
  std::string_view found = GetPrefixed(it.key());
  if (ExtractUserKey(found) != key.user_key()) return false;
  uint64_t tag = ExtractTag(found);
  if (static_cast<ValueType>(tag & 0xff) == ValueType::kDeletion) {
    *deleted = true;
    return true;
  }
  *deleted = false;
  std::string_view v = GetPrefixed(found.data() + found.size());
  value->assign(v.data(), v.size());
  return true;
}

class MemTable::Iter final : public InternalIterator {
 public:
  explicit Iter(const Table* table) : it_(table) {}
  bool Valid() const override { return it_.Valid(); }
  void SeekToFirst() override {
    it_.SeekToFirst();
    Decode();
  }
  void Seek(std::string_view target) override {
    buf_.clear();
    PutVarint32(&buf_, static_cast<uint32_t>(target.size()));
    buf_.append(target.data(), target.size());
    it_.Seek(buf_.data());
    Decode();
  }
  void Next() override {
    it_.Next();
    Decode();
  }
  std::string_view key() const override { return key_; }
  std::string_view value() const override { return value_; }
  Status status() const override { return Status::OK(); }

 private:
  // Decodes the entry once per move; merging compares call key() many times.
  void Decode() {
    if (!it_.Valid()) return;
    key_ = GetPrefixed(it_.key());
    value_ = GetPrefixed(key_.data() + key_.size());
  }

  Table::Iterator it_;
  std::string buf_;
  std::string_view key_;
  std::string_view value_;
};

std::unique_ptr<InternalIterator> MemTable::NewIterator() const {
  return std::make_unique<Iter>(&table_);
}

}  // namespace ringkv::storage::lsm
