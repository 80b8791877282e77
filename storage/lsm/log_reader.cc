#include "storage/lsm/log_reader.h"

#include <cstring>
#include <memory>

#include "storage/base/coding.h"
#include "storage/base/crc32c.h"
#include "storage/lsm/log_writer.h"

namespace ringkv::storage::lsm {
namespace {

bool AllZero(std::string_view s) {
  for (char c : s) {
    if (c != 0) return false;
  }
  return true;
}

Status ReadWholeFile(Env* env, const std::string& path, std::string* data) {
  std::unique_ptr<SequentialFile> file;
  RINGKV_RETURN_IF_ERROR(env->NewSequentialFile(path, &file));
  data->clear();
  std::string scratch;
  constexpr size_t kChunk = 1 << 20;
  // Bounded by the file size: every iteration consumes at least one byte or ends.
  while (true) {
    std::string_view chunk;
    RINGKV_RETURN_IF_ERROR(file->Read(kChunk, &scratch, &chunk));
    if (chunk.empty()) break;
    data->append(chunk.data(), chunk.size());
  }
  return Status::OK();
}

// True when a complete, verifiable record (header and payload checksums)
// starts at in[0].
bool VerifiableRecordAt(std::string_view in) {
  if (in.size() < kLogHeaderBytes || static_cast<uint8_t>(in[8]) != kLogRecordVersion) return false;
  if (crc32c::Value(in.data() + 4, 5) != crc32c::Unmask(DecodeFixed32(in.data()))) return false;
  uint32_t length = DecodeFixed32(in.data() + 4);
  if (length > kMaxLogRecordBytes || in.size() - kLogHeaderBytes < length) return false;
  return crc32c::Value(in.data() + kLogHeaderBytes, length) ==
         crc32c::Unmask(DecodeFixed32(in.data() + 9));
}

// True when some record after in[0] verifies: then damage at in[0] is not a torn
// tail, since a writer appends in order and a crash only tears the last record.
// Candidates are offsets whose version byte matches, so zero runs are skipped fast.
bool VerifiableRecordAfter(std::string_view in) {
  // Bounded by in.size(): every pass moves `from` forward by at least one byte.
  for (size_t from = 9; from < in.size();) {
    const void* hit = std::memchr(in.data() + from, kLogRecordVersion, in.size() - from);
    if (hit == nullptr) return false;
    size_t version_at = static_cast<size_t>(static_cast<const char*>(hit) - in.data());
    if (VerifiableRecordAt(in.substr(version_at - 8))) return true;
    from = version_at + 1;
  }
  return false;
}

}  // namespace

Status ReadLog(Env* env, const std::string& path,
               const std::function<Status(std::string_view record)>& fn,
               LogReadResult* result) {
  std::string data;
  RINGKV_RETURN_IF_ERROR(ReadWholeFile(env, path, &data));
  std::string_view in(data);
  uint64_t offset = 0;
  auto corrupt = [&](const char* what) {
    return Status::Corruption(path + ": " + what + " at offset " + std::to_string(offset));
  };
  auto torn = [&] {
    result->torn_tail_bytes = in.size();
    return Status::OK();
  };
  while (!in.empty()) {
    if (in.size() < kLogHeaderBytes || AllZero(in)) return torn();
    // A record a killed mapped writer never completed (see log_reader.h).
    const bool word_unset = DecodeFixed32(in.data()) == 0;
    uint32_t header_crc = crc32c::Unmask(DecodeFixed32(in.data()));
    if (crc32c::Value(in.data() + 4, 5) != header_crc) {
      if (word_unset && !VerifiableRecordAfter(in)) return torn();
      return corrupt("log record header checksum");
    }
    uint32_t length = DecodeFixed32(in.data() + 4);
    uint8_t version = static_cast<uint8_t>(in[8]);
    if (version != kLogRecordVersion) return corrupt("unknown log record version");
    if (length > kMaxLogRecordBytes) return corrupt("log record length");
    if (in.size() - kLogHeaderBytes < length) return torn();
    std::string_view payload = in.substr(kLogHeaderBytes, length);
    uint32_t payload_crc = crc32c::Unmask(DecodeFixed32(in.data() + 9));
    if (crc32c::Value(payload.data(), payload.size()) != payload_crc) {
      if (word_unset && !VerifiableRecordAfter(in)) return torn();
      // Torn by a power loss when a 512-aligned offset inside the payload
      // starts the file's zero tail (sectors never written).
      size_t zero_from = in.size();
      while (zero_from > kLogHeaderBytes && in[zero_from - 1] == 0) zero_from--;
      uint64_t sector = (offset + zero_from + 511) / 512 * 512;
      if (sector < offset + kLogHeaderBytes + length) return torn();
      return corrupt("log record payload checksum");
    }
    RINGKV_RETURN_IF_ERROR(fn(payload));
    result->records++;
    in.remove_prefix(kLogHeaderBytes + length);
    offset += kLogHeaderBytes + length;
  }
  return Status::OK();
}

}  // namespace ringkv::storage::lsm
