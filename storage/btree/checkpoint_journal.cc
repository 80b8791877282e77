#include "storage/btree/checkpoint_journal.h"

#include <cstring>
#include <memory>

#include "storage/base/coding.h"
#include "storage/base/crc32c.h"

namespace ringkv::storage::btree {

Status WriteJournal(Env* env, const std::string& dir, const std::string& path, size_t page_bytes,
                    uint64_t seq, const std::vector<std::pair<uint64_t, const char*>>& pages,
                    uint64_t* bytes) {
  std::unique_ptr<WritableFile> f;
  RINGKV_RETURN_IF_ERROR(env->NewWritableFile(path, &f));
  std::string header("RKCJ");
  PutFixed32(&header, kJournalVersion);
  PutFixed32(&header, static_cast<uint32_t>(page_bytes));
  PutFixed32(&header, static_cast<uint32_t>(pages.size()));
  PutFixed64(&header, seq);
  uint32_t crc = crc32c::Value(header);
  RINGKV_RETURN_IF_ERROR(f->Append(header));
  for (const auto& [id, data] : pages) {
    char idbuf[8];
    EncodeFixed64(idbuf, id);
    crc = crc32c::Extend(crc, idbuf, 8);
    crc = crc32c::Extend(crc, data, page_bytes);
    RINGKV_RETURN_IF_ERROR(f->Append(std::string_view(idbuf, 8)));
    RINGKV_RETURN_IF_ERROR(f->Append(std::string_view(data, page_bytes)));
  }
  std::string trailer;
  PutFixed32(&trailer, crc32c::Mask(crc));
  RINGKV_RETURN_IF_ERROR(f->Append(trailer));
  RINGKV_RETURN_IF_ERROR(f->Sync());
  *bytes = f->Size();
  RINGKV_RETURN_IF_ERROR(f->Close());
  return env->SyncDir(dir);
}

Status ReadJournal(Env* env, const std::string& path, size_t page_bytes, JournalContents* out,
                   bool* complete) {
  *complete = false;
  std::string data;
  RINGKV_RETURN_IF_ERROR(ReadFileToString(env, path, &data));
  if (data.size() < 28 || std::memcmp(data.data(), "RKCJ", 4) != 0) return Status::OK();
  uint32_t n = DecodeFixed32(data.data() + 12);
  if (DecodeFixed32(data.data() + 4) != kJournalVersion ||
      DecodeFixed32(data.data() + 8) != page_bytes ||
      data.size() != 24 + static_cast<uint64_t>(n) * (8 + page_bytes) + 4) {
    return Status::OK();
  }
  uint32_t crc = crc32c::Value(data.data(), data.size() - 4);
  if (crc32c::Unmask(DecodeFixed32(data.data() + data.size() - 4)) != crc) return Status::OK();
  out->seq = DecodeFixed64(data.data() + 16);
  out->pages.clear();
  const char* p = data.data() + 24;
  for (uint32_t i = 0; i < n; i++) {
    out->pages.emplace_back(DecodeFixed64(p), std::string(p + 8, page_bytes));
    p += 8 + page_bytes;
  }
  *complete = true;
  return Status::OK();
}

}  // namespace ringkv::storage::btree
