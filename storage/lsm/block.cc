#include "storage/lsm/block.h"

#include <algorithm>
#include <cstring>

#include "storage/base/coding.h"
#include "storage/lsm/internal_key.h"

namespace ringkv::storage::lsm {

Block::Block(std::string contents) : owned_(std::move(contents)) {
  data_ = owned_;
  ParseRestarts();
}

Block::Block(std::string_view contents, Borrow) : data_(contents) { ParseRestarts(); }

void Block::ParseRestarts() {
  if (data_.size() < 4) return;
  uint32_t n = DecodeFixed32(data_.data() + data_.size() - 4);
  uint64_t max_restarts = (data_.size() - 4) / 4;
  if (n == 0 || n > max_restarts) return;
  restart_offset_ = static_cast<uint32_t>(data_.size() - 4 - 4 * static_cast<uint64_t>(n));
  num_restarts_ = n;
}

namespace {

// Decodes an entry header at p (limit = end of entries). Returns nullptr when malformed.
inline const char* DecodeEntry(const char* p, const char* limit, uint32_t* shared,
                               uint32_t* non_shared, uint32_t* value_len) {
  if (limit - p < 3) return nullptr;
  *shared = static_cast<uint8_t>(p[0]);
  *non_shared = static_cast<uint8_t>(p[1]);
  *value_len = static_cast<uint8_t>(p[2]);
  if ((*shared | *non_shared | *value_len) < 128) {
    p += 3;  // fast path: all three varints are one byte
  } else {
    std::string_view in(p, limit - p);
    if (!GetVarint32(&in, shared) || !GetVarint32(&in, non_shared) ||
        !GetVarint32(&in, value_len)) {
      return nullptr;
    }
    p = in.data();
  }
  if (static_cast<uint64_t>(limit - p) < static_cast<uint64_t>(*non_shared) + *value_len) {
    return nullptr;
  }
  return p;
}

}  // namespace

void BlockCursor::Reset(const Block& block) {
  data_ = block.data_.data();
  restarts_ = block.restart_offset_;
  num_restarts_ = block.num_restarts_;
  status_ = num_restarts_ == 0 ? Status::Corruption("malformed block (restart array)") : Status::OK();
  current_ = restarts_;
  next_ = restarts_;
  key_len_ = 0;
  value_ = {};
}

void BlockCursor::SeekToFirst() {
  if (!status_.ok()) return;
  SeekToRestart(0);
  ParseNext();
}

void BlockCursor::Seek(std::string_view target) {
  if (!status_.ok()) return;
  // Binary search for the last restart point whose key < target.
  uint32_t left = 0, right = num_restarts_ - 1;
  while (left < right) {
    uint32_t mid = (left + right + 1) / 2;
    uint32_t off = RestartPoint(mid);
    uint32_t shared, non_shared, value_len;
    const char* p = DecodeEntry(data_ + off, data_ + restarts_, &shared, &non_shared, &value_len);
    if (p == nullptr || shared != 0 || non_shared < kTagBytes) {
      Fail();
      return;
    }
    if (CompareInternalKey(std::string_view(p, non_shared), target) < 0) {
      left = mid;
    } else {
      right = mid - 1;
    }
  }
  SeekToRestart(left);
  // Linear scan: bounded by the entries between two restart points (and the block).
  while (ParseNext()) {
    if (CompareInternalKey(key(), target) >= 0) return;
  }
}

bool BlockCursor::PeekNextValue(std::string_view* value) const {
  if (next_ >= restarts_) return false;
  uint32_t shared, non_shared, value_len;
  const char* p = DecodeEntry(data_ + next_, data_ + restarts_, &shared, &non_shared, &value_len);
  if (p == nullptr) return false;
  *value = std::string_view(p + non_shared, value_len);
  return true;
}

uint32_t BlockCursor::RestartPoint(uint32_t i) const { return DecodeFixed32(data_ + restarts_ + 4 * i); }

void BlockCursor::SeekToRestart(uint32_t i) {
  key_len_ = 0;
  next_ = RestartPoint(i);
  if (next_ > restarts_) {
    Fail();
    return;
  }
  current_ = restarts_;  // invalid until ParseNext succeeds
}

void BlockCursor::Fail() {
  status_ = Status::Corruption("malformed block entry");
  current_ = restarts_;
  next_ = restarts_;
  key_len_ = 0;
  value_ = {};
}

bool BlockCursor::ParseNext() {
  current_ = next_;
  if (current_ >= restarts_) {
    current_ = restarts_;
    return false;
  }
  uint32_t shared, non_shared, value_len;
  const char* p = DecodeEntry(data_ + current_, data_ + restarts_, &shared, &non_shared, &value_len);
  if (p == nullptr || shared > key_len_ || shared + non_shared < kTagBytes) {
    Fail();
    return false;
  }
  size_t len = static_cast<size_t>(shared) + non_shared;
  // Grows only; the shared prefix already sits at the front (resize keeps it).
  if (len > key_.size()) key_.resize(std::max<size_t>(len, 2 * key_.size()));
  std::memcpy(key_.data() + shared, p, non_shared);
  key_len_ = len;
  value_ = std::string_view(p + non_shared, value_len);
  next_ = static_cast<uint32_t>((p + non_shared + value_len) - data_);
  return true;
}

// Block's InternalIterator: a BlockCursor that also holds the block alive.
class Block::Iter final : public InternalIterator {
 public:
  Iter(const Block* block, std::shared_ptr<const Block> holder)
      : holder_(std::move(holder)), cursor_(*block) {}

  bool Valid() const override { return cursor_.Valid(); }
  Status status() const override { return cursor_.status(); }
  std::string_view key() const override { return cursor_.key(); }
  std::string_view value() const override { return cursor_.value(); }
  void SeekToFirst() override { cursor_.SeekToFirst(); }
  void Next() override { cursor_.Next(); }
  void Seek(std::string_view target) override { cursor_.Seek(target); }

 private:
  std::shared_ptr<const Block> holder_;
  BlockCursor cursor_;
};

Status Block::Find(std::string_view target, std::string* key, bool* found,
                   std::string_view* value) const {
  *found = false;
  if (num_restarts_ == 0) return Status::Corruption("malformed block (restart array)");
  const char* data = data_.data();
  const char* limit = data + restart_offset_;
  auto restart = [&](uint32_t i) { return DecodeFixed32(data + restart_offset_ + 4 * i); };
  auto bad = [] { return Status::Corruption("malformed block entry"); };
  // Last restart point whose key < target.
  uint32_t left = 0, right = num_restarts_ - 1;
  while (left < right) {
    uint32_t mid = (left + right + 1) / 2;
    uint32_t off = restart(mid);
    if (off >= restart_offset_) return bad();
    uint32_t shared, non_shared, value_len;
    const char* p = DecodeEntry(data + off, limit, &shared, &non_shared, &value_len);
    if (p == nullptr || shared != 0 || non_shared < kTagBytes) return bad();
    if (CompareInternalKey(std::string_view(p, non_shared), target) < 0) {
      left = mid;
    } else {
      right = mid - 1;
    }
  }
  uint32_t off = restart(left);
  if (off > restart_offset_) return bad();
  const char* p = data + off;
  key->clear();
  // Bounded by the block size: every entry advances p.
  while (p < limit) {
    uint32_t shared, non_shared, value_len;
    const char* q = DecodeEntry(p, limit, &shared, &non_shared, &value_len);
    if (q == nullptr || shared > key->size() || shared + non_shared < kTagBytes) return bad();
    key->resize(shared);
    key->append(q, non_shared);
    if (CompareInternalKey(*key, target) >= 0) {
      *found = true;
      *value = std::string_view(q + non_shared, value_len);
      return Status::OK();
    }
    p = q + non_shared + value_len;
  }
  return Status::OK();
}

std::unique_ptr<InternalIterator> Block::NewIterator(std::shared_ptr<const Block> holder) const {
  return std::make_unique<Iter>(this, std::move(holder));
}

}  // namespace ringkv::storage::lsm
