#include "storage/btree/wal.h"

#include <algorithm>
#include <cstring>

#include "storage/base/coding.h"
#include "storage/base/crc32c.h"

namespace ringkv::storage::btree {
namespace {

bool AllZero(const char* p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (p[i] != 0) return false;
  }
  return true;
}

// Whether a record at `pos` ending at `end` whose checksum failed is a torn
// tail: some 512-byte boundary b with pos < b < end has only zeros from b to
// the end of the file (see the file comment).
bool TornAtSector(const std::string& data, size_t pos, size_t end) {
  size_t z = data.size();  // start of the trailing run of zeros
  while (z > pos && data[z - 1] == 0) z--;
  size_t b = std::max(z, pos + 1);
  b = (b + kWalSectorBytes - 1) / kWalSectorBytes * kWalSectorBytes;
  return b < end && b < data.size();
}

}  // namespace

std::string WalPath(const std::string& dir) { return dir + "/wal.log"; }

Status WalWriter::Create(Env* env, const std::string& dir, uint64_t start_lsn,
                         std::unique_ptr<WalWriter>* out) {
  std::string tmp = dir + "/wal.tmp";
  std::unique_ptr<WritableFile> f;
  RINGKV_RETURN_IF_ERROR(env->NewWritableFile(tmp, &f));
  std::string header("RKBW");
  PutFixed32(&header, kWalVersion);
  PutFixed64(&header, start_lsn);
  PutFixed32(&header, crc32c::Mask(crc32c::Value(header)));
  PutFixed32(&header, 0);
  RINGKV_RETURN_IF_ERROR(f->Append(header));
  RINGKV_RETURN_IF_ERROR(f->Sync());
  RINGKV_RETURN_IF_ERROR(f->Close());
  RINGKV_RETURN_IF_ERROR(env->RenameFile(tmp, WalPath(dir)));
  RINGKV_RETURN_IF_ERROR(env->SyncDir(dir));
  std::unique_ptr<RandomRWFile> rw;
  RINGKV_RETURN_IF_ERROR(env->NewRandomRWFile(WalPath(dir), &rw));
  out->reset(new WalWriter(std::move(rw), header.size()));
  (*out)->bytes_written_ = header.size();
  return Status::OK();
}

Status WalWriter::OpenExisting(Env* env, const std::string& dir, uint64_t valid_bytes,
                               std::unique_ptr<WalWriter>* out) {
  uint64_t size = 0;
  RINGKV_RETURN_IF_ERROR(env->GetFileSize(WalPath(dir), &size));
  if (size != valid_bytes) RINGKV_RETURN_IF_ERROR(env->TruncateFile(WalPath(dir), valid_bytes));
  std::unique_ptr<RandomRWFile> f;
  RINGKV_RETURN_IF_ERROR(env->NewRandomRWFile(WalPath(dir), &f));
  out->reset(new WalWriter(std::move(f), valid_bytes));
  return Status::OK();
}

Status WalWriter::WriteAt(std::string_view data) {
  RINGKV_RETURN_IF_ERROR(file_->Write(end_, data));
  end_ += data.size();
  allocated_ = std::max(allocated_, end_);
  bytes_written_ += data.size();
  return Status::OK();
}

Status WalWriter::Append(WalRecordType type, uint64_t lsn, std::string_view payload, bool sync) {
  char h[kWalRecordHeaderBytes];
  EncodeFixed32(h + 8, static_cast<uint32_t>(payload.size()));
  h[12] = static_cast<char>(type);
  EncodeFixed64(h + 13, lsn);
  EncodeFixed32(h, crc32c::Mask(crc32c::Value(h + 8, 13)));
  EncodeFixed32(h + 4, crc32c::Mask(crc32c::Value(payload)));
  const uint64_t record_bytes = sizeof(h) + payload.size();
  if (sync && end_ + record_bytes > allocated_) {
    // Extend by zeros now; the sync below persists the new size once, and
    // the next synced records only overwrite data blocks.
    uint64_t grow = std::max<uint64_t>(kWalPreallocBytes, end_ + record_bytes - allocated_);
    if (zeros_.size() < grow) zeros_.assign(grow, '\0');
    RINGKV_RETURN_IF_ERROR(file_->Write(allocated_, std::string_view(zeros_.data(), grow)));
    allocated_ += grow;
    bytes_written_ += grow;
  }
  if (payload.size() <= kCoalesceBytes) {
    // One write per record.
    scratch_.assign(h, sizeof(h));
    scratch_.append(payload);
    RINGKV_RETURN_IF_ERROR(WriteAt(scratch_));
  } else {
    // Large values: no extra copy of the payload.
    RINGKV_RETURN_IF_ERROR(WriteAt(std::string_view(h, sizeof(h))));
    RINGKV_RETURN_IF_ERROR(WriteAt(payload));
  }
  if (sync) return file_->Sync();
  return Status::OK();
}

Status ReplayWal(Env* env, const std::string& dir, const WalRecordFn& fn, WalReplayInfo* info) {
  std::string data;
  RINGKV_RETURN_IF_ERROR(ReadFileToString(env, WalPath(dir), &data));
  if (data.size() < kWalHeaderBytes || std::memcmp(data.data(), "RKBW", 4) != 0 ||
      DecodeFixed32(data.data() + 4) != kWalVersion ||
      crc32c::Unmask(DecodeFixed32(data.data() + 16)) != crc32c::Value(data.data(), 16)) {
    return Status::Corruption("btree wal: bad file header");
  }
  info->start_lsn = DecodeFixed64(data.data() + 8);
  info->last_lsn = info->start_lsn - 1;
  size_t pos = kWalHeaderBytes;
  info->valid_bytes = pos;
  while (pos < data.size()) {
    const char* h = data.data() + pos;
    size_t left = data.size() - pos;
    if (left < kWalRecordHeaderBytes || AllZero(h, std::min(left, kWalRecordHeaderBytes))) {
      // Zeros to the end of the file are the preallocated space after the
      // last record: the normal end of a log, not a torn write.
      info->torn_tail = !AllZero(h, left);
      break;
    }
    if (crc32c::Unmask(DecodeFixed32(h)) != crc32c::Value(h + 8, 13)) {
      if (TornAtSector(data, pos, pos + kWalRecordHeaderBytes)) {
        info->torn_tail = true;
        break;
      }
      return Status::Corruption("btree wal: record header checksum mismatch at offset " +
                                std::to_string(pos));
    }
    uint32_t len = DecodeFixed32(h + 8);
    uint64_t lsn = DecodeFixed64(h + 13);
    if (left - kWalRecordHeaderBytes < len) {
      info->torn_tail = true;
      break;
    }
    std::string_view payload(h + kWalRecordHeaderBytes, len);
    if (crc32c::Unmask(DecodeFixed32(h + 4)) != crc32c::Value(payload)) {
      if (TornAtSector(data, pos, pos + kWalRecordHeaderBytes + len)) {
        info->torn_tail = true;
        break;
      }
      return Status::Corruption("btree wal: record payload checksum mismatch at offset " +
                                std::to_string(pos));
    }
    if (lsn != info->last_lsn + 1) {
      return Status::Corruption("btree wal: LSN " + std::to_string(lsn) + " follows " +
                                std::to_string(info->last_lsn));
    }
    uint8_t type = static_cast<uint8_t>(h[12]);
    if (type != static_cast<uint8_t>(WalRecordType::kBatch) &&
        type != static_cast<uint8_t>(WalRecordType::kClear)) {
      return Status::Corruption("btree wal: unknown record type");
    }
    RINGKV_RETURN_IF_ERROR(fn(static_cast<WalRecordType>(type), lsn, payload));
    info->last_lsn = lsn;
    pos += kWalRecordHeaderBytes + len;
    info->valid_bytes = pos;
  }
  return Status::OK();
}

}  // namespace ringkv::storage::btree
