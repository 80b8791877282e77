// On-disk format of the Raft log (version 1).
//
// A log is a directory of segment files named wal-<seq>.log, seq a 20-digit
// decimal sequence number; segments are written in sequence order and only
// the newest one is ever appended to. A segment is:
//
//   segment header, 20 bytes:
//     [0, 4)   fixed32  magic 0x474c4b52 (bytes 'R' 'K' 'L' 'G')
//     [4, 8)   fixed32  format version (1)
//     [8, 16)  fixed64  segment sequence number (must match the file name)
//     [16, 20) fixed32  masked CRC32C of bytes [0, 16)
//   then zero or more records, back to back:
//     [0, 4)   fixed32  masked CRC32C of bytes [4, 9 + length): the length,
//                       the type and the payload
//     [4, 8)   fixed32  length of the payload (<= 256 MiB)
//     [8]      uint8    record type
//     [9, 9 + length)   payload
//
// Payloads (varints as in storage/base/coding.h):
//   1 entries:    varint64 group, varint64 first_index, varint32 count, then
//                 count x { varint64 term, varint32 size, size bytes data };
//                 the entries have indexes first_index, first_index + 1, ...
//   2 hard state: varint64 group, varint32 size, size bytes (opaque blob)
//   3 truncate:   varint64 group, varint64 from_index   (drop index >= from)
//   4 compact:    varint64 group, varint64 before_index (drop index < before),
//                 varint64 term of entry before_index - 1 (0 if unknown)
//   5 drop group: varint64 group
//
// All integers are little-endian. Every new segment begins (after its header)
// with a checkpoint: a hard-state record and, if the group was ever
// compacted, a compact record for every group, so the newest segment always
// holds every group's latest metadata and older segments are needed only for
// the entries in them.
#include "storage/raftlog/log_format.h"

#include <cstdio>

#include "storage/base/coding.h"
#include "storage/base/crc32c.h"

namespace ringkv::storage::raftlog {

std::string SegmentFileName(uint64_t seq) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "wal-%020llu.log", static_cast<unsigned long long>(seq));
  return buf;
}

bool ParseSegmentFileName(std::string_view name, uint64_t* seq) {
  constexpr std::string_view kPrefix = "wal-", kSuffix = ".log";
  if (name.size() != kPrefix.size() + 20 + kSuffix.size()) return false;
  if (name.substr(0, 4) != kPrefix || name.substr(24) != kSuffix) return false;
  uint64_t v = 0;
  for (char c : name.substr(4, 20)) {
    if (c < '0' || c > '9') return false;
    uint64_t next = v * 10 + static_cast<uint64_t>(c - '0');
    if (next / 10 != v) return false;  // overflow
    v = next;
  }
  *seq = v;
  return true;
}

std::string EncodeSegmentHeader(uint64_t seq) {
  std::string h;
  PutFixed32(&h, kSegmentMagic);
  PutFixed32(&h, kFormatVersion);
  PutFixed64(&h, seq);
  PutFixed32(&h, crc32c::Mask(crc32c::Value(h)));
  return h;
}

Status CheckSegmentHeader(std::string_view header, uint64_t seq) {
  if (header.size() < kSegmentHeaderSize) return Status::Corruption("short segment header");
  if (crc32c::Unmask(DecodeFixed32(header.data() + 16)) != crc32c::Value(header.data(), 16)) {
    return Status::Corruption("segment header checksum mismatch");
  }
  if (DecodeFixed32(header.data()) != kSegmentMagic) return Status::Corruption("bad magic");
  if (DecodeFixed32(header.data() + 4) != kFormatVersion) {
    return Status::Corruption("unsupported format version " +
                              std::to_string(DecodeFixed32(header.data() + 4)));
  }
  if (DecodeFixed64(header.data() + 8) != seq) {
    return Status::Corruption("segment header names sequence " +
                              std::to_string(DecodeFixed64(header.data() + 8)));
  }
  return Status::OK();
}

void AppendRecord(std::string* dst, RecordType type, std::string_view payload) {
  RINGKV_CHECK(payload.size() <= kMaxRecordPayload);
  size_t start = dst->size();
  PutFixed32(dst, 0);  // checksum, filled below
  PutFixed32(dst, static_cast<uint32_t>(payload.size()));
  dst->push_back(static_cast<char>(type));
  dst->append(payload.data(), payload.size());
  uint32_t crc = crc32c::Value(dst->data() + start + 4, 5 + payload.size());
  EncodeFixed32(dst->data() + start, crc32c::Mask(crc));
}

Status CheckRecord(std::string_view rec, RecordType* type, std::string_view* payload) {
  if (rec.size() < kRecordHeaderSize) return Status::Corruption("short record");
  uint32_t length = DecodeFixed32(rec.data() + 4);
  if (length > kMaxRecordPayload || rec.size() - kRecordHeaderSize < length) {
    return Status::Corruption("record length out of range");
  }
  uint32_t crc = crc32c::Value(rec.data() + 4, 5 + length);
  if (crc32c::Unmask(DecodeFixed32(rec.data())) != crc) {
    return Status::Corruption("record checksum mismatch");
  }
  *type = static_cast<RecordType>(static_cast<uint8_t>(rec[8]));
  *payload = rec.substr(kRecordHeaderSize, length);
  return Status::OK();
}

void EncodeEntriesHeader(std::string* payload, uint64_t group, uint64_t first_index,
                         uint32_t count) {
  PutVarint64(payload, group);
  PutVarint64(payload, first_index);
  PutVarint32(payload, count);
}

uint32_t AppendEntryToPayload(std::string* payload, uint64_t term, std::string_view data) {
  PutVarint64(payload, term);
  PutVarint32(payload, static_cast<uint32_t>(data.size()));
  uint32_t offset = static_cast<uint32_t>(payload->size());
  payload->append(data.data(), data.size());
  return offset;
}

std::string EncodeHardState(uint64_t group, std::string_view blob) {
  std::string p;
  PutVarint64(&p, group);
  PutLengthPrefixed(&p, blob);
  return p;
}

std::string EncodeTruncate(uint64_t group, uint64_t from_index) {
  std::string p;
  PutVarint64(&p, group);
  PutVarint64(&p, from_index);
  return p;
}

std::string EncodeCompact(uint64_t group, uint64_t before_index, uint64_t prev_term) {
  std::string p;
  PutVarint64(&p, group);
  PutVarint64(&p, before_index);
  PutVarint64(&p, prev_term);
  return p;
}

std::string EncodeDropGroup(uint64_t group) {
  std::string p;
  PutVarint64(&p, group);
  return p;
}

bool DecodeEntries(std::string_view payload, uint64_t* group, uint64_t* first_index,
                   std::vector<EncodedEntry>* entries) {
  const char* base = payload.data();
  std::string_view in = payload;
  uint32_t count = 0;
  if (!GetVarint64(&in, group) || !GetVarint64(&in, first_index) || !GetVarint32(&in, &count)) {
    return false;
  }
  // Each entry takes at least 2 bytes, which bounds a garbled count.
  if (count == 0 || count > in.size() / 2) return false;
  if (*first_index == 0 || *first_index + count < *first_index) return false;
  entries->clear();
  entries->reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t term = 0;
    std::string_view data;
    if (!GetVarint64(&in, &term) || !GetLengthPrefixed(&in, &data)) return false;
    entries->push_back(EncodedEntry{term, static_cast<uint32_t>(data.data() - base),
                                    static_cast<uint32_t>(data.size())});
  }
  return in.empty();
}

bool DecodeHardState(std::string_view payload, uint64_t* group, std::string_view* blob) {
  return GetVarint64(&payload, group) && GetLengthPrefixed(&payload, blob) && payload.empty();
}

bool DecodeTruncate(std::string_view payload, uint64_t* group, uint64_t* from_index) {
  return GetVarint64(&payload, group) && GetVarint64(&payload, from_index) && payload.empty();
}

bool DecodeCompact(std::string_view payload, uint64_t* group, uint64_t* before_index,
                   uint64_t* prev_term) {
  return GetVarint64(&payload, group) && GetVarint64(&payload, before_index) &&
         GetVarint64(&payload, prev_term) && payload.empty();
}

bool DecodeDropGroup(std::string_view payload, uint64_t* group) {
  return GetVarint64(&payload, group) && payload.empty();
}

}  // namespace ringkv::storage::raftlog
