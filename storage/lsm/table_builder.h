// TableBuilder: writes one SSTable (format: table_format.h) from internal keys
// added in strictly increasing internal-key order.
//
// Ownership: does not own the WritableFile; the caller syncs and closes it
// after Finish. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/base/status.h"
#include "storage/env/env.h"
#include "storage/lsm/block_builder.h"
#include "storage/lsm/bloom.h"
#include "storage/lsm/table_format.h"

namespace ringkv::storage::lsm {

struct TableOptions {
  size_t block_bytes = 4096;
  int restart_interval = 16;
  int bloom_bits_per_key = 10;
};

class TableBuilder {
 public:
  TableBuilder(const TableOptions& options, WritableFile* file);

  // REQUIRES: ikey > every key added before (internal-key order); !Finish()ed.
  void Add(std::string_view ikey, std::string_view value);
  // Writes the last data block, the filter, the index and the footer.
  Status Finish();

  Status status() const { return status_; }
  uint64_t num_entries() const { return num_entries_; }
  // Bytes written so far (the final file size after Finish).
  uint64_t FileSize() const { return offset_; }

 private:
  void FlushDataBlock();
  void WriteBlock(std::string_view contents, BlockHandle* handle);

  TableOptions options_;
  WritableFile* file_;
  uint64_t offset_ = 0;
  Status status_;
  BlockBuilder data_block_;
  BlockBuilder index_block_;
  BloomFilterBuilder filter_;
  std::string last_key_;
  uint64_t num_entries_ = 0;
  // The index entry of a finished data block is added when the next block's
  // first key is known, so its separator can be short.
  bool pending_index_entry_ = false;
  BlockHandle pending_handle_;
  std::string scratch_;
};

// Sets *start to a short internal key k with start <= k < limit (internal-key
// order), used as an index separator. Leaves *start alone if it cannot shorten.
void ShortenSeparator(std::string* start, std::string_view limit);

}  // namespace ringkv::storage::lsm
