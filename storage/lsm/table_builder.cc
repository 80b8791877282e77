#include "storage/lsm/table_builder.h"

#include "storage/base/coding.h"
#include "storage/base/crc32c.h"
#include "storage/lsm/internal_key.h"

namespace ringkv::storage::lsm {

void ShortenSeparator(std::string* start, std::string_view limit) {
  std::string_view a = ExtractUserKey(*start);
  std::string_view b = ExtractUserKey(limit);
  size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) i++;
  if (i >= n) return;  // one user key is a prefix of the other
  uint8_t byte = static_cast<uint8_t>(a[i]);
  if (byte >= 0xff || byte + 1 >= static_cast<uint8_t>(b[i])) return;
  // a[0..i] + (a[i] + 1) is > a and < b as a user key; the max tag makes it
  // sort before every real entry with that user key.
  std::string sep(a.substr(0, i + 1));
  sep[i] = static_cast<char>(byte + 1);
  PutFixed64(&sep, PackTag(kMaxSequence, kValueTypeForSeek));
  *start = std::move(sep);
}

TableBuilder::TableBuilder(const TableOptions& options, WritableFile* file)
    : options_(options), file_(file), data_block_(options.restart_interval),
      index_block_(1), filter_(options.bloom_bits_per_key) {}

void TableBuilder::Add(std::string_view ikey, std::string_view value) {
  if (!status_.ok()) return;
  RINGKV_DCHECK(num_entries_ == 0 || CompareInternalKey(last_key_, ikey) < 0);
  if (pending_index_entry_) {
    ShortenSeparator(&last_key_, ikey);
    scratch_.clear();
    pending_handle_.EncodeTo(&scratch_);
    index_block_.Add(last_key_, scratch_);
    pending_index_entry_ = false;
  }
  // Consecutive versions of one user key add the same hash; harmless for a bloom filter.
  filter_.AddKey(ExtractUserKey(ikey));
  last_key_.assign(ikey.data(), ikey.size());
  num_entries_++;
  data_block_.Add(ikey, value);
  if (data_block_.CurrentSizeEstimate() >= options_.block_bytes) FlushDataBlock();
}

void TableBuilder::FlushDataBlock() {
  if (data_block_.empty() || !status_.ok()) return;
  WriteBlock(data_block_.Finish(), &pending_handle_);
  data_block_.Reset();
  pending_index_entry_ = true;
}

void TableBuilder::WriteBlock(std::string_view contents, BlockHandle* handle) {
  handle->offset = offset_;
  handle->size = contents.size();
  char trailer[kBlockTrailerBytes];
  trailer[0] = static_cast<char>(kBlockTypeRaw);
  uint32_t crc = crc32c::Extend(crc32c::Value(contents.data(), contents.size()), trailer, 1);
  EncodeFixed32(trailer + 1, crc32c::Mask(crc));
  status_ = file_->Append(contents);
  if (status_.ok()) status_ = file_->Append(std::string_view(trailer, kBlockTrailerBytes));
  if (status_.ok()) offset_ += contents.size() + kBlockTrailerBytes;
}

Status TableBuilder::Finish() {
  FlushDataBlock();
  Footer footer;
  std::string filter;
  filter_.Finish(&filter);
  WriteBlock(filter, &footer.filter);
  if (pending_index_entry_) {
    scratch_.clear();
    pending_handle_.EncodeTo(&scratch_);
    index_block_.Add(last_key_, scratch_);
    pending_index_entry_ = false;
  }
  WriteBlock(index_block_.Finish(), &footer.index);
  if (!status_.ok()) return status_;
  std::string encoded;
  footer.EncodeTo(&encoded);
  status_ = file_->Append(encoded);
  if (status_.ok()) offset_ += encoded.size();
  return status_;
}

}  // namespace ringkv::storage::lsm
