// SSTable file format, version 1. Written by TableBuilder, read by Table.
//
// File layout, byte by byte:
//   data block 0 | trailer
//   ...
//   data block N-1 | trailer
//   filter block | trailer          bloom filter over all user keys (bloom.h)
//   index block | trailer           one entry per data block (block_builder.h
//                                   format, restart interval 1): key = an internal
//                                   key >= the block's last key and < the next
//                                   block's first key; value = the block handle
//   footer (kFooterBytes = 56)
//
// Block handle: varint64 offset | varint64 size (size excludes the trailer).
// Trailer (kBlockTrailerBytes = 5):
//   [0]      uint8   block type: 0 = uncompressed (the only type in version 1)
//   [1, 5)   fixed32 masked CRC32C of the block contents followed by the type byte
// Footer:
//   [0, 40)  filter handle, then index handle, zero padded to 40 bytes
//   [40, 44) fixed32 table format version (kTableFormatVersion = 1)
//   [44, 48) fixed32 masked CRC32C of footer bytes [0, 44)
//   [48, 56) fixed64 magic number kTableMagic
// Every block is verified against its CRC when it is read from disk (pread
// path: on every block-cache miss; mapped path: the first time the block is
// touched, remembered in a per-table bitmap); the footer is verified when the
// table is opened.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "storage/base/status.h"
#include "storage/env/env.h"
#include "storage/lsm/block.h"

namespace ringkv::storage::lsm {

constexpr uint64_t kTableMagic = 0x53'4c'76'6b'67'6e'69'72ull;  // "ringkvLS" little-endian
constexpr uint32_t kTableFormatVersion = 1;
constexpr size_t kFooterBytes = 56;
constexpr size_t kBlockTrailerBytes = 5;
constexpr uint8_t kBlockTypeRaw = 0;

struct BlockHandle {
  uint64_t offset = 0;
  uint64_t size = 0;
  void EncodeTo(std::string* dst) const;
  // Consumes a handle from the front of *input.
  bool DecodeFrom(std::string_view* input);
};

struct Footer {
  BlockHandle filter;
  BlockHandle index;
  void EncodeTo(std::string* dst) const;
  Status DecodeFrom(std::string_view input);  // input.size() == kFooterBytes
};

// Reads the block at `handle`, verifies its trailer CRC and type, and returns it.
Result<std::shared_ptr<const Block>> ReadBlock(const RandomAccessFile* file,
                                               const BlockHandle& handle);
// From a memory-mapped file (Env::NewMappedFile): *contents views the mapping.
// With verify, checks the trailer CRC and type; without, only the bounds.
Status MappedBlockContents(const RandomAccessFile* file, const BlockHandle& handle, bool verify,
                           std::string_view* contents);
// Same, returning the raw verified contents (used for the filter block).
Status ReadBlockContents(const RandomAccessFile* file, const BlockHandle& handle,
                         std::string* contents);

}  // namespace ringkv::storage::lsm
