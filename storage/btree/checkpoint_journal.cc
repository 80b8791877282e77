#include "storage/btree/checkpoint_journal.h"

#include <cstring>
#include <memory>

#include "storage/base/coding.h"
#include "storage/base/crc32c.h"

namespace ringkv::storage::btree {

void FindZeroHole(const char* page, size_t page_bytes, size_t* offset, size_t* length) {
  size_t best_off = 0, best_len = 0, run_off = 0, run_len = 0;
  for (size_t off = 0; off + 8 <= page_bytes; off += 8) {
    uint64_t w;
    std::memcpy(&w, page + off, 8);
    if (w != 0) {
      run_len = 0;
      continue;
    }
    if (run_len == 0) run_off = off;
    run_len += 8;
    if (run_len > best_len) {
      best_len = run_len;
      best_off = run_off;
    }
  }
  *offset = best_off;
  *length = best_len;
}

Status WriteJournal(Env* env, const std::string& dir, const std::string& path, size_t page_bytes,
                    uint64_t seq, const std::vector<std::pair<uint64_t, const char*>>& pages,
                    uint64_t* bytes) {
  std::unique_ptr<WritableFile> f;
  RINGKV_RETURN_IF_ERROR(env->NewWritableFile(path, &f));
  std::string buf("RKCJ");
  PutFixed32(&buf, kJournalVersion);
  PutFixed32(&buf, static_cast<uint32_t>(page_bytes));
  PutFixed32(&buf, static_cast<uint32_t>(pages.size()));
  PutFixed64(&buf, seq);
  uint32_t crc = 0;
  // Entries are gathered into buf and appended in chunks of about 1 MiB.
  auto flush = [&]() -> Status {
    crc = crc32c::Extend(crc, buf.data(), buf.size());
    Status s = f->Append(buf);
    buf.clear();
    return s;
  };
  for (const auto& [id, data] : pages) {
    size_t hole_off = 0, hole_len = 0;
    FindZeroHole(data, page_bytes, &hole_off, &hole_len);
    PutFixed64(&buf, id);
    PutFixed32(&buf, static_cast<uint32_t>(hole_off));
    PutFixed32(&buf, static_cast<uint32_t>(hole_len));
    buf.append(data, hole_off);
    buf.append(data + hole_off + hole_len, page_bytes - hole_off - hole_len);
    if (buf.size() >= (1u << 20)) RINGKV_RETURN_IF_ERROR(flush());
  }
  RINGKV_RETURN_IF_ERROR(flush());
  PutFixed32(&buf, crc32c::Mask(crc));
  RINGKV_RETURN_IF_ERROR(f->Append(buf));
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
  const uint32_t version = DecodeFixed32(data.data() + 4);
  const uint32_t n = DecodeFixed32(data.data() + 12);
  if ((version != 1 && version != kJournalVersion) || DecodeFixed32(data.data() + 8) != page_bytes) {
    return Status::OK();
  }
  uint32_t crc = crc32c::Value(data.data(), data.size() - 4);
  if (crc32c::Unmask(DecodeFixed32(data.data() + data.size() - 4)) != crc) return Status::OK();
  // The checksum matched, so the bytes are what a writer wrote; the bounds
  // checks below only guard against a writer bug.
  JournalContents c;
  c.seq = DecodeFixed64(data.data() + 16);
  const size_t end = data.size() - 4;
  size_t pos = 24;
  for (uint32_t i = 0; i < n; i++) {
    const size_t fixed = version == 1 ? 8 : 16;
    if (end - pos < fixed) return Status::OK();
    uint64_t id = DecodeFixed64(data.data() + pos);
    size_t hole_off = 0, hole_len = 0;
    if (version != 1) {
      hole_off = DecodeFixed32(data.data() + pos + 8);
      hole_len = DecodeFixed32(data.data() + pos + 12);
      if (hole_off > page_bytes || hole_len > page_bytes - hole_off) return Status::OK();
    }
    pos += fixed;
    const size_t stored = page_bytes - hole_len;
    if (end - pos < stored) return Status::OK();
    std::string image(page_bytes, '\0');
    std::memcpy(image.data(), data.data() + pos, hole_off);
    std::memcpy(image.data() + hole_off + hole_len, data.data() + pos + hole_off,
                stored - hole_off);
    c.pages.emplace_back(id, std::move(image));
    pos += stored;
  }
  if (pos != end) return Status::OK();
  *out = std::move(c);
  *complete = true;
  return Status::OK();
}

}  // namespace ringkv::storage::btree
