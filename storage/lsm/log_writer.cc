#include "storage/lsm/log_writer.h"

#include "storage/base/coding.h"
#include "storage/base/crc32c.h"

namespace ringkv::storage::lsm {

Status LogWriter::AddRecord(std::string_view payload, bool sync) {
  if (payload.size() > kMaxLogRecordBytes) return Status::InvalidArgument("log record too large");
  char header[kLogHeaderBytes];
  EncodeFixed32(header + 4, static_cast<uint32_t>(payload.size()));
  header[8] = static_cast<char>(kLogRecordVersion);
  EncodeFixed32(header, crc32c::Mask(crc32c::Value(header + 4, 5)));
  EncodeFixed32(header + 9, crc32c::Mask(crc32c::Value(payload.data(), payload.size())));
  // One Append call per record so a process crash tears at most the last record.
  buf_.assign(header, kLogHeaderBytes);
  buf_.append(payload.data(), payload.size());
  RINGKV_RETURN_IF_ERROR(file_->Append(buf_));
  RINGKV_RETURN_IF_ERROR(file_->Flush());
  if (sync) RINGKV_RETURN_IF_ERROR(file_->Sync());
  return Status::OK();
}

}  // namespace ringkv::storage::lsm
