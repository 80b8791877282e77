#include "storage/lsm/log_reader.h"

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
  while (!in.empty()) {
    if (in.size() < kLogHeaderBytes || AllZero(in)) {
      result->torn_tail_bytes = in.size();
      return Status::OK();
    }
    uint32_t header_crc = crc32c::Unmask(DecodeFixed32(in.data()));
    if (crc32c::Value(in.data() + 4, 5) != header_crc) return corrupt("log record header checksum");
    uint32_t length = DecodeFixed32(in.data() + 4);
    uint8_t version = static_cast<uint8_t>(in[8]);
    if (version != kLogRecordVersion) return corrupt("unknown log record version");
    if (length > kMaxLogRecordBytes) return corrupt("log record length");
    if (in.size() - kLogHeaderBytes < length) {
      result->torn_tail_bytes = in.size();
      return Status::OK();
    }
    std::string_view payload = in.substr(kLogHeaderBytes, length);
    uint32_t payload_crc = crc32c::Unmask(DecodeFixed32(in.data() + 9));
    if (crc32c::Value(payload.data(), payload.size()) != payload_crc) {
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
