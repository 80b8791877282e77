// InternalIterator: the forward cursor every LSM component exposes over its
// internal keys (memtable, block, table, level, merge). Forward only: the
// Engine interface has no reverse iteration, and leaving Prev out keeps every
// implementation small.
//
// Ownership: key()/value() views stay valid until the next move of the
// iterator. A non-OK status() makes Valid() false. Not thread-safe.
#pragma once

#include <string_view>

#include "storage/base/status.h"

namespace ringkv::storage::lsm {

class InternalIterator {
 public:
  virtual ~InternalIterator() = default;
  virtual bool Valid() const = 0;
  virtual void SeekToFirst() = 0;
  // Positions at the first entry with internal key >= target.
  virtual void Seek(std::string_view target) = 0;
  // REQUIRES: Valid().
  virtual void Next() = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  virtual Status status() const = 0;
};

// An iterator over nothing that reports `status` (used to surface open errors).
class ErrorIterator final : public InternalIterator {
 public:
  explicit ErrorIterator(Status status) : status_(std::move(status)) {}
  bool Valid() const override { return false; }
  void SeekToFirst() override {}
  void Seek(std::string_view) override {}
  void Next() override {}
  std::string_view key() const override { return {}; }
  std::string_view value() const override { return {}; }
  Status status() const override { return status_; }

 private:
  Status status_;
};

}  // namespace ringkv::storage::lsm
