#include "storage/lsm/table_format.h"

#include "storage/base/coding.h"
#include "storage/base/crc32c.h"

namespace ringkv::storage::lsm {

void BlockHandle::EncodeTo(std::string* dst) const {
  PutVarint64(dst, offset);
  PutVarint64(dst, size);
}

bool BlockHandle::DecodeFrom(std::string_view* input) {
  return GetVarint64(input, &offset) && GetVarint64(input, &size);
}

void Footer::EncodeTo(std::string* dst) const {
  size_t start = dst->size();
  filter.EncodeTo(dst);
  index.EncodeTo(dst);
  dst->resize(start + 40, 0);
  PutFixed32(dst, kTableFormatVersion);
  PutFixed32(dst, crc32c::Mask(crc32c::Value(dst->data() + start, 44)));
  PutFixed64(dst, kTableMagic);
}

Status Footer::DecodeFrom(std::string_view input) {
  if (input.size() != kFooterBytes) return Status::Corruption("sstable footer size");
  if (DecodeFixed64(input.data() + 48) != kTableMagic) {
    return Status::Corruption("sstable footer magic number");
  }
  if (crc32c::Unmask(DecodeFixed32(input.data() + 44)) != crc32c::Value(input.data(), 44)) {
    return Status::Corruption("sstable footer checksum");
  }
  if (DecodeFixed32(input.data() + 40) != kTableFormatVersion) {
    return Status::Corruption("sstable format version");
  }
  std::string_view handles = input.substr(0, 40);
  if (!filter.DecodeFrom(&handles) || !index.DecodeFrom(&handles)) {
    return Status::Corruption("sstable footer handles");
  }
  return Status::OK();
}

namespace {

Status CheckTrailer(std::string_view block_and_trailer, uint64_t offset) {
  size_t n = block_and_trailer.size() - kBlockTrailerBytes;
  const char* p = block_and_trailer.data();
  uint32_t expected = crc32c::Unmask(DecodeFixed32(p + n + 1));
  if (crc32c::Value(p, n + 1) != expected) {
    return Status::Corruption("sstable block checksum mismatch at offset " + std::to_string(offset));
  }
  if (static_cast<uint8_t>(p[n]) != kBlockTypeRaw) return Status::Corruption("sstable block type");
  return Status::OK();
}

}  // namespace

Status MappedBlockContents(const RandomAccessFile* file, const BlockHandle& handle, bool verify,
                           std::string_view* contents) {
  constexpr uint64_t kMaxBlockBytes = 1ull << 30;
  if (handle.size > kMaxBlockBytes) return Status::Corruption("sstable block handle size");
  size_t n = static_cast<size_t>(handle.size);
  std::string_view result;
  RINGKV_RETURN_IF_ERROR(file->Read(handle.offset, n + kBlockTrailerBytes, nullptr, &result));
  if (result.size() != n + kBlockTrailerBytes) return Status::Corruption("sstable block truncated");
  if (verify) RINGKV_RETURN_IF_ERROR(CheckTrailer(result, handle.offset));
  *contents = result.substr(0, n);
  return Status::OK();
}

Status ReadBlockContents(const RandomAccessFile* file, const BlockHandle& handle,
                         std::string* contents) {
  constexpr uint64_t kMaxBlockBytes = 1ull << 30;
  if (handle.size > kMaxBlockBytes) return Status::Corruption("sstable block handle size");
  size_t n = static_cast<size_t>(handle.size);
  contents->resize(n + kBlockTrailerBytes);
  std::string_view result;
  RINGKV_RETURN_IF_ERROR(file->Read(handle.offset, n + kBlockTrailerBytes, contents->data(), &result));
  if (result.size() != n + kBlockTrailerBytes) return Status::Corruption("sstable block truncated");
  RINGKV_RETURN_IF_ERROR(CheckTrailer(result, handle.offset));
  if (result.data() != contents->data()) {
    contents->assign(result.data(), n);  // the Env returned its own memory (e.g. MemEnv)
  } else {
    contents->resize(n);
  }
  return Status::OK();
}

Result<std::shared_ptr<const Block>> ReadBlock(const RandomAccessFile* file,
                                               const BlockHandle& handle) {
  std::string contents;
  RINGKV_RETURN_IF_ERROR(ReadBlockContents(file, handle, &contents));
  auto block = std::make_shared<const Block>(std::move(contents));
  if (!block->ok()) return Status::Corruption("malformed sstable block");
  return std::shared_ptr<const Block>(std::move(block));
}

}  // namespace ringkv::storage::lsm
