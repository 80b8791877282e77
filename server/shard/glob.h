// StringMatch: Redis's glob matcher (util.c stringmatchlen, as in 7.0.15),
// used by KEYS and SCAN MATCH so that patterns select exactly the keys Redis
// would select:
//   *        any run of bytes (also empty)
//   ?        one byte
//   [abc]    one byte of a class; [^abc] not in it; [a-z] a range (ends in
//            either order); \x inside a class is x literally; an
//            unterminated class ("[ab") matches as if closed at the end
//   \x       x literally (a trailing lone backslash matches a backslash)
// Bytes compare as signed chars, as Redis's int conversion of char does.
// Two of Redis's guards are kept because they change results, not just
// speed: recursion deeper than 1000 nested '*' fails the match, and once the
// rest of a pattern after a '*' fails at every position, no earlier '*'
// retries (so "*a*a*a...b" is linear instead of exponential).
// Pure function; thread-safe.
#pragma once

#include <string_view>

namespace ringkv::server {

bool StringMatch(std::string_view pattern, std::string_view text, bool nocase = false);

}  // namespace ringkv::server
