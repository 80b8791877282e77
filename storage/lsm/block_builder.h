// BlockBuilder: builds one SSTable block (data or index) of sorted entries with
// prefix-compressed keys.
//
// Block contents format, version 1 (the version lives in the table footer),
// byte by byte:
//   entries, each:
//     varint32 shared       bytes of the key shared with the previous key
//                           (0 at every restart point)
//     varint32 non_shared   bytes of the key that follow
//     varint32 value_length
//     non_shared key bytes, then value bytes
//   restarts: fixed32 offset of each restart entry (one every
//             `restart_interval` entries; the first entry is always one)
//   fixed32 number of restarts (>= 1)
// A reader binary-searches the restart points (full keys), then scans forward.
// The block's trailer (type + CRC) is added by the table builder.
//
// Ownership: a value type; Finish() returns a view into its own buffer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ringkv::storage::lsm {

class BlockBuilder {
 public:
  explicit BlockBuilder(int restart_interval);

  // REQUIRES: key > every key added since the last Reset (caller's order); !finished.
  void Add(std::string_view key, std::string_view value);
  // Appends the restart array; the view is valid until Reset or destruction.
  std::string_view Finish();
  void Reset();

  // Size of the block if Finish were called now.
  size_t CurrentSizeEstimate() const {
    return buffer_.size() + restarts_.size() * 4 + 4;
  }
  bool empty() const { return buffer_.empty(); }
  std::string_view last_key() const { return last_key_; }

 private:
  const int restart_interval_;
  std::string buffer_;
  std::vector<uint32_t> restarts_;
  int counter_ = 0;
  bool finished_ = false;
  std::string last_key_;
};

}  // namespace ringkv::storage::lsm
