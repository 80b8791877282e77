// Redis's error texts, word for word, so clients' error handling works unchanged.
#pragma once

#include <string>
#include <string_view>

#include "storage/base/status.h"

namespace ringkv::server {
class ReplyBuilder;
}  // namespace ringkv::server

namespace ringkv::server::errors {

inline constexpr std::string_view kSyntax = "ERR syntax error";
inline constexpr std::string_view kNotInteger = "ERR value is not an integer or out of range";
inline constexpr std::string_view kNotFloat = "ERR value is not a valid float";
inline constexpr std::string_view kOverflow = "ERR increment or decrement would overflow";
inline constexpr std::string_view kIncrNanOrInf = "ERR increment would produce NaN or Infinity";
inline constexpr std::string_view kNoSuchKey = "ERR no such key";
inline constexpr std::string_view kWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
inline constexpr std::string_view kInvalidExpire = "ERR invalid expire time in '%s' command";
inline constexpr std::string_view kNoAuth = "NOAUTH Authentication required.";
inline constexpr std::string_view kWrongPass =
    "WRONGPASS invalid username-password pair or user is disabled.";
inline constexpr std::string_view kOom = "OOM command not allowed when used memory > 'maxmemory'.";
inline constexpr std::string_view kDbIndexOutOfRange = "ERR DB index is out of range";
inline constexpr std::string_view kStringTooLong = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

// "ERR wrong number of arguments for '<name>' command"
std::string WrongArity(std::string_view name);
// "ERR unknown command '<name>', with args beginning with: '<a1>' '<a2>' "
std::string UnknownCommand(std::string_view name, const std::string_view* args, size_t n);
// "ERR unknown subcommand '<sub>'. Try <CMD> HELP."
std::string UnknownSubcommand(std::string_view cmd, std::string_view sub);
// "ERR invalid expire time in '<name>' command"
std::string InvalidExpire(std::string_view name);
// `message` as a Redis error: as is when it starts with an error code (an
// upper-case word and a space: ERR, WRONGTYPE, CROSSSLOT), else after "ERR ".
// Commands' own InvalidArgument statuses carry Redis texts; an engine's
// (a btree key over the page's limit) carry plain text, and clients read the
// first word of an error as its code.
std::string WithCode(std::string_view message);
// Replies with a failed operation's status: an InvalidArgument through
// WithCode, anything else (I/O, corruption) as "ERR <status>".
void ReplyStatus(ReplyBuilder* reply, const Status& s);

}  // namespace ringkv::server::errors
