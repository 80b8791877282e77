// The on-disk format of the Raft log: segment files of CRC32C-framed records.
// Byte-by-byte description in log_format.cc, which writes it.
//
// Pure encode/decode helpers; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/status.h"

namespace ringkv::storage::raftlog {

inline constexpr uint32_t kSegmentMagic = 0x474c4b52;  // "RKLG" in file byte order
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kSegmentHeaderSize = 20;
inline constexpr size_t kRecordHeaderSize = 9;
// A record's payload is at most this large (the length field is 32 bits; we
// stay far below so a garbled length is recognisable).
inline constexpr uint32_t kMaxRecordPayload = 256u << 20;

enum class RecordType : uint8_t {
  kEntries = 1,    // a batch of consecutive entries of one group
  kHardState = 2,  // a group's hard state blob (replaces the previous one)
  kTruncate = 3,   // drop the group's entries with index >= from_index
  kCompact = 4,    // drop the group's entries with index < before_index
  kDropGroup = 5,  // forget the group entirely
};

// "wal-<20-digit sequence>.log".
std::string SegmentFileName(uint64_t seq);
// Parses a name made by SegmentFileName; false for any other name.
bool ParseSegmentFileName(std::string_view name, uint64_t* seq);

std::string EncodeSegmentHeader(uint64_t seq);
// Corruption unless `header` (kSegmentHeaderSize bytes) is a valid header for `seq`.
Status CheckSegmentHeader(std::string_view header, uint64_t seq);

// Appends one framed record (header + payload) to *dst.
// REQUIRES: payload.size() <= kMaxRecordPayload.
void AppendRecord(std::string* dst, RecordType type, std::string_view payload);

// One entry inside an entries payload, as located by DecodeEntries.
struct EncodedEntry {
  uint64_t term;
  uint32_t data_offset;  // offset of the data from the start of the payload
  uint32_t data_size;
};

// Payload encoders. EncodeEntriesHeader starts an entries payload; each
// AppendEntryToPayload adds one entry and returns the offset of its data
// within the payload.
void EncodeEntriesHeader(std::string* payload, uint64_t group, uint64_t first_index,
                         uint32_t count);
uint32_t AppendEntryToPayload(std::string* payload, uint64_t term, std::string_view data);
std::string EncodeHardState(uint64_t group, std::string_view blob);
std::string EncodeTruncate(uint64_t group, uint64_t from_index);
std::string EncodeCompact(uint64_t group, uint64_t before_index, uint64_t prev_term);
std::string EncodeDropGroup(uint64_t group);

// Payload decoders: false if the payload is malformed.
bool DecodeEntries(std::string_view payload, uint64_t* group, uint64_t* first_index,
                   std::vector<EncodedEntry>* entries);
bool DecodeHardState(std::string_view payload, uint64_t* group, std::string_view* blob);
bool DecodeTruncate(std::string_view payload, uint64_t* group, uint64_t* from_index);
bool DecodeCompact(std::string_view payload, uint64_t* group, uint64_t* before_index,
                   uint64_t* prev_term);
bool DecodeDropGroup(std::string_view payload, uint64_t* group);

// Checks a whole framed record at the start of `rec` (header + payload):
// OK and sets *type / *payload if the checksum matches.
Status CheckRecord(std::string_view rec, RecordType* type, std::string_view* payload);

}  // namespace ringkv::storage::raftlog
