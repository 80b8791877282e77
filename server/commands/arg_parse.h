// Argument parsing helpers shared by every command family.
//
// Plain parsers (ParseInt64, ParseDouble ...) return false on bad input and
// never reply. The ...OrReply variants send Redis's error reply themselves and
// return false, so a handler only has to `return` (Redis's getLongLongFromObjectOrReply).
// Thread-safe: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#include "server/resp/reply_builder.h"

namespace ringkv::server {

// ASCII case-insensitive equality (command names, options like "EX", "NX").
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]);
    unsigned char y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

// Redis's string2ll rules: optional '-', digits, no leading zeros (except "0"),
// no spaces or '+', fits in int64. "-0" is rejected like Redis does.
bool ParseInt64(std::string_view s, int64_t* out);
// Like ParseInt64 but rejects negative values.
bool ParseUint64(std::string_view s, uint64_t* out);

// Redis's string2ld/strtold rules used by INCRBYFLOAT: the whole string must be
// consumed, no leading space, NaN is rejected, "inf"/"-inf" accepted.
bool ParseLongDouble(std::string_view s, long double* out);
// Redis's string2d rules (getDoubleFromObject): strtod, whole string, no leading
// space, NaN rejected.
bool ParseDouble(std::string_view s, double* out);

// Redis's glob matcher (stringmatchlen): *, ?, [abc], [^a-z], \x. `nocase`
// folds ASCII case.
bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase = false);

// Formats `v` as Redis's ld2string(LD_STR_HUMAN) does for INCRBYFLOAT replies:
// %.17Lf then trailing zeros (and a trailing '.') removed.
size_t FormatLongDoubleHuman(long double v, char* buf, size_t buf_len);

// Reply-on-error variants. `msg` overrides the default error text when non-empty.
bool ParseInt64OrReply(ReplyBuilder* reply, std::string_view s, int64_t* out,
                       std::string_view msg = {});
bool ParseDoubleOrReply(ReplyBuilder* reply, std::string_view s, double* out,
                        std::string_view msg = {});
bool ParseLongDoubleOrReply(ReplyBuilder* reply, std::string_view s, long double* out,
                            std::string_view msg = {});
// Accepts [min, max]; out of range or not an integer replies `msg` or
// "ERR value is out of range, must be positive"-style Redis text given by caller.
bool ParseRangeOrReply(ReplyBuilder* reply, std::string_view s, int64_t min, int64_t max,
                       int64_t* out, std::string_view msg = {});

}  // namespace ringkv::server
