// ReadLog: reads back every record a LogWriter wrote (format: log_writer.h).
//
// Torn tail rule: a crash can leave the last record incomplete. These cases
// end the log quietly (OK) and are counted in LogReadResult::torn_tail_bytes:
//   - fewer than kLogHeaderBytes bytes remain;
//   - a header whose check passes but whose payload runs past the end of file;
//   - every remaining byte is zero (space the file system extended but never
//     filled, or a mapped log's preallocated tail);
//   - a record whose header checksum word (bytes [0, 4)) is zero and whose
//     header does not verify, with no verifiable record anywhere after it: a
//     writer killed inside a mapped append (Env::NewMappedAppendFile stores
//     that word last, so until the record is complete it reads as zero);
//   - a record whose header verifies but whose payload does not, where every
//     byte from some 512-byte-aligned file offset inside the payload to the end
//     of the file is zero: a power loss before the record's sync reached the
//     disk left its later sectors unwritten.
// Anything else that does not verify (a header or payload CRC mismatch on a
// complete record, an unknown record version, an over-long length) returns
// Corruption naming the file and offset: that is damage, not a crash.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "storage/base/status.h"
#include "storage/env/env.h"

namespace ringkv::storage::lsm {

struct LogReadResult {
  uint64_t records = 0;
  uint64_t torn_tail_bytes = 0;
};

// Calls fn for every record in order; stops at the first non-OK status of fn.
Status ReadLog(Env* env, const std::string& path,
               const std::function<Status(std::string_view record)>& fn,
               LogReadResult* result);

}  // namespace ringkv::storage::lsm
