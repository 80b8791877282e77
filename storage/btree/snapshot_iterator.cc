#include "storage/btree/snapshot_iterator.h"

#include "storage/btree/btree_engine_impl.h"

namespace ringkv::storage::btree {

SnapshotIterator::SnapshotIterator(BtreeEngine* engine, uint64_t epoch, uint64_t root,
                                   uint32_t height, uint64_t page_count)
    : engine_(engine),
      epoch_(epoch),
      cursor_(this, &engine->page_file(), root, height, page_count) {}

SnapshotIterator::~SnapshotIterator() { engine_->ReleaseSnapshot(epoch_); }

Status SnapshotIterator::ReadPage(uint64_t id, std::string* out) {
  return engine_->ReadPageAt(epoch_, id, out);
}

Status SnapshotIterator::ViewPage(uint64_t id, std::string* /*scratch*/, PageRef* pin,
                                  const char** data) {
  return engine_->ViewPageAt(epoch_, id, data, pin);
}

void SnapshotIterator::LoadValue() {
  value_view_ = std::string_view();
  if (status_.ok() && cursor_.Valid()) status_ = cursor_.ValueView(&value_, &value_view_);
}

void SnapshotIterator::Seek(std::string_view target) {
  status_ = cursor_.Seek(target);
  LoadValue();
}

void SnapshotIterator::Next() {
  RINGKV_CHECK(Valid());
  status_ = cursor_.Next();
  LoadValue();
}

}  // namespace ringkv::storage::btree
