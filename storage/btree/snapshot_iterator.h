// SnapshotIterator: the engine's point-in-time Iterator (NewSnapshotIterator).
//
// Holds a snapshot epoch from the engine's SnapshotStore plus the root and
// height at creation, and reads pages as of that epoch (see snapshot_store.h),
// so it keeps showing the same data while the engine is written. Releases the
// snapshot on destruction. REQUIRES: destroyed before the engine; used on the
// engine's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "storage/btree/tree_cursor.h"
#include "storage/engine.h"

namespace ringkv::storage::btree {

class BtreeEngine;

class SnapshotIterator final : public Iterator, private PageSource {
 public:
  SnapshotIterator(BtreeEngine* engine, uint64_t epoch, uint64_t root, uint32_t height,
                   uint64_t page_count);
  ~SnapshotIterator() override;

  bool Valid() const override { return status_.ok() && cursor_.Valid(); }
  void SeekToFirst() override { Seek(std::string_view()); }
  void Seek(std::string_view target) override;
  void Next() override;
  // Views into the cursor's own copy of the leaf (or value_ for an overflow
  // value): valid until the next move, whatever the engine does meanwhile.
  std::string_view key() const override { return cursor_.key(); }
  std::string_view value() const override { return value_view_; }
  Status status() const override { return status_; }

 private:
  Status ReadPage(uint64_t id, std::string* out) override;
  Status ViewPage(uint64_t id, std::string* scratch, PageRef* pin, const char** data) override;
  void LoadValue();

  BtreeEngine* engine_;
  uint64_t epoch_;
  TreeCursor cursor_;
  std::string value_;  // an overflow value
  std::string_view value_view_;
  Status status_;
};

}  // namespace ringkv::storage::btree
