// WriteBatch: an ordered list of puts and deletes that an engine applies atomically.
// Encoding (for WALs that store a batch as one record), all integers varint:
//   count, then per op: type (1 = put, 0 = delete), key (length-prefixed),
//   and for a put the value (length-prefixed).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/base/coding.h"
#include "storage/base/status.h"

namespace ringkv::storage {

class WriteBatch {
 public:
  enum class OpType : uint8_t { kDelete = 0, kPut = 1 };

  void Put(std::string_view key, std::string_view value) {
    count_++;
    rep_.push_back(static_cast<char>(OpType::kPut));
    PutLengthPrefixed(&rep_, key);
    PutLengthPrefixed(&rep_, value);
    payload_bytes_ += key.size() + value.size();
  }
  void Delete(std::string_view key) {
    count_++;
    rep_.push_back(static_cast<char>(OpType::kDelete));
    PutLengthPrefixed(&rep_, key);
    payload_bytes_ += key.size();
  }
  void Clear() {
    rep_.clear();
    count_ = 0;
    payload_bytes_ = 0;
  }
  uint32_t Count() const { return count_; }
  size_t payload_bytes() const { return payload_bytes_; }

  // Calls fn(type, key, value) for each op in order; value is empty for deletes.
  // Returns Corruption if the representation is damaged (only possible for a
  // batch built by Decode from untrusted bytes).
  template <typename Fn>
  Status Iterate(Fn&& fn) const {
    std::string_view in(rep_);
    for (uint32_t i = 0; i < count_; i++) {
      if (in.empty()) return Status::Corruption("write batch truncated");
      auto type = static_cast<OpType>(in[0]);
      in.remove_prefix(1);
      std::string_view key, value;
      if (!GetLengthPrefixed(&in, &key)) return Status::Corruption("write batch key");
      if (type == OpType::kPut) {
        if (!GetLengthPrefixed(&in, &value)) return Status::Corruption("write batch value");
      } else if (type != OpType::kDelete) {
        return Status::Corruption("write batch op type");
      }
      fn(type, key, value);
    }
    if (!in.empty()) return Status::Corruption("write batch trailing bytes");
    return Status::OK();
  }

  // Serialized form: varint count followed by the ops.
  std::string Encode() const {
    std::string out;
    PutVarint32(&out, count_);
    out += rep_;
    return out;
  }
  // Parses Encode()'s output; validates it fully.
  static Result<WriteBatch> Decode(std::string_view data) {
    WriteBatch b;
    if (!GetVarint32(&data, &b.count_)) return Status::Corruption("write batch count");
    b.rep_.assign(data.data(), data.size());
    size_t payload = 0;
    Status s = b.Iterate([&](OpType, std::string_view k, std::string_view v) {
      payload += k.size() + v.size();
    });
    if (!s.ok()) return s;
    b.payload_bytes_ = payload;
    return b;
  }

 private:
  std::string rep_;
  uint32_t count_ = 0;
  size_t payload_bytes_ = 0;
};

}  // namespace ringkv::storage
