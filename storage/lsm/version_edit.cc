#include "storage/lsm/version_edit.h"

#include "storage/base/coding.h"
#include "storage/lsm/internal_key.h"

namespace ringkv::storage::lsm {
namespace {

enum Tag : uint32_t {
  kLogNumber = 1,
  kNextFileNumber = 2,
  kLastSequence = 3,
  kAppliedIndex = 4,
  kDeletedFile = 5,
  kNewFile = 6,
};

}  // namespace

void VersionEdit::EncodeTo(std::string* dst) const {
  dst->push_back(static_cast<char>(kVersionEditFormat));
  auto put_opt = [&](uint32_t tag, const std::optional<uint64_t>& v) {
    if (!v) return;
    PutVarint32(dst, tag);
    PutVarint64(dst, *v);
  };
  put_opt(kLogNumber, log_number);
  put_opt(kNextFileNumber, next_file_number);
  put_opt(kLastSequence, last_sequence);
  put_opt(kAppliedIndex, applied_index);
  for (const auto& [level, number] : deleted_files) {
    PutVarint32(dst, kDeletedFile);
    PutVarint32(dst, static_cast<uint32_t>(level));
    PutVarint64(dst, number);
  }
  for (const auto& [level, f] : new_files) {
    PutVarint32(dst, kNewFile);
    PutVarint32(dst, static_cast<uint32_t>(level));
    PutVarint64(dst, f.number);
    PutVarint64(dst, f.file_size);
    PutLengthPrefixed(dst, f.smallest);
    PutLengthPrefixed(dst, f.largest);
    PutVarint64(dst, f.num_entries);
    PutVarint64(dst, f.num_deletions);
  }
}

Status VersionEdit::DecodeFrom(std::string_view src) {
  *this = VersionEdit();
  if (src.empty() || static_cast<uint8_t>(src[0]) != kVersionEditFormat) {
    return Status::Corruption("version edit format version");
  }
  src.remove_prefix(1);
  auto bad = [](const char* what) { return Status::Corruption(std::string("version edit ") + what); };
  while (!src.empty()) {
    uint32_t tag;
    if (!GetVarint32(&src, &tag)) return bad("tag");
    uint64_t v;
    uint32_t level;
    switch (tag) {
      case kLogNumber:
      case kNextFileNumber:
      case kLastSequence:
      case kAppliedIndex:
        if (!GetVarint64(&src, &v)) return bad("number field");
        if (tag == kLogNumber) log_number = v;
        if (tag == kNextFileNumber) next_file_number = v;
        if (tag == kLastSequence) last_sequence = v;
        if (tag == kAppliedIndex) applied_index = v;
        break;
      case kDeletedFile:
        if (!GetVarint32(&src, &level) || level >= kNumLevels || !GetVarint64(&src, &v)) {
          return bad("deleted file");
        }
        deleted_files.emplace_back(static_cast<int>(level), v);
        break;
      case kNewFile: {
        FileMeta f;
        std::string_view smallest, largest;
        if (!GetVarint32(&src, &level) || level >= kNumLevels || !GetVarint64(&src, &f.number) ||
            !GetVarint64(&src, &f.file_size) || !GetLengthPrefixed(&src, &smallest) ||
            !GetLengthPrefixed(&src, &largest) || !GetVarint64(&src, &f.num_entries) ||
            !GetVarint64(&src, &f.num_deletions) || smallest.size() < kTagBytes ||
            largest.size() < kTagBytes) {
          return bad("new file");
        }
        f.smallest.assign(smallest);
        f.largest.assign(largest);
        new_files.emplace_back(static_cast<int>(level), std::move(f));
        break;
      }
      default:
        return bad("unknown tag");
    }
  }
  return Status::OK();
}

}  // namespace ringkv::storage::lsm
