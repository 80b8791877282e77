// ReadLog: reads back every record a LogWriter wrote (format: log_writer.h).
//
// Torn tail rule: a crash can leave the last record incomplete. These cases
// end the log quietly (OK) and are counted in LogReadResult::torn_tail_bytes:
//   - fewer than kLogHeaderBytes bytes remain;
//   - a header whose check passes but whose payload runs past the end of file;
//   - every remaining byte is zero (space the file system extended but never
//     filled).
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
