// RespParser: turns the bytes a client sent into commands (argv), with no I/O.
//
// Accepts RESP multibulk requests ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n") and inline
// commands as telnet/redis-cli send them ("set k \"a b\"\r\n", split with
// Redis's sdssplitargs rules). Errors are Redis 7.0's protocol errors word for
// word; after one the connection must reply "-ERR <error()>" and close.
//
// Usage: the caller keeps the unconsumed input contiguous and calls
// Parse(data, len) with data pointing at the first unconsumed byte. kOk means
// one command is complete: args() holds it (views into `data`, or into the
// parser for inline commands, valid until the next Parse) and the caller drops
// `consumed` bytes. kIncomplete means "append more bytes and call again with
// the same start"; the parser resumes where it stopped (it keeps offsets, not
// pointers, so the caller may move the buffer between calls). A command with
// zero arguments ("*0\r\n", an empty inline line) is kOk with args().empty().
//
// Owned by one connection; not thread-safe. Per-command work allocates nothing
// once the argument vectors reached their high-water mark.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ringkv::server {

struct RespLimits {
  // proto-max-bulk-len: a longer bulk string is "invalid bulk length".
  int64_t max_bulk_len = 512ll * 1024 * 1024;
  // A larger multibulk count is "invalid multibulk length" (Redis: INT_MAX).
  int64_t max_multibulk_len = 2147483647ll;
  // An inline request or a count line longer than this without CR/LF is an
  // error (Redis's PROTO_INLINE_MAX_SIZE).
  size_t max_inline_len = 64 * 1024;
  // Limits for clients that have not authenticated while a password is set.
  int64_t unauth_max_multibulk_len = 10;
  int64_t unauth_max_bulk_len = 16384;
};

class RespParser {
 public:
  enum class Status { kOk, kIncomplete, kError };

  explicit RespParser(RespLimits limits = {}) : limits_(limits) {}

  // REQUIRES: data starts at the first byte not consumed by an earlier kOk, and
  // after kIncomplete it starts with the same bytes as before.
  Status Parse(const char* data, size_t len, size_t* consumed);

  std::span<const std::string_view> args() const { return args_; }
  // The error text after kError, e.g. "Protocol error: invalid bulk length".
  const std::string& error() const { return error_; }
  // After kIncomplete: the input length that would let the current bulk string
  // complete (0 when unknown). The connection grows its buffer to this at once.
  size_t bytes_hint() const { return bytes_hint_; }
  // Applies the unauthenticated-client limits when true.
  void set_auth_required(bool v) { auth_required_ = v; }
  // Drops any partial state (e.g. after a protocol error).
  void Reset();

 private:
  Status ParseMultibulk(const char* data, size_t len, size_t* consumed);
  Status ParseInline(const char* data, size_t len, size_t* consumed);
  Status Fail(std::string msg);

  RespLimits limits_;
  bool auth_required_ = false;

  // Resumable multibulk state. Invariant: in_multibulk_ implies pos_ > 0 and
  // the bytes before pos_ were validated by earlier calls.
  bool in_multibulk_ = false;
  size_t pos_ = 0;              // next byte to look at, relative to data
  int64_t args_remaining_ = 0;  // bulk strings still expected
  int64_t bulk_len_ = -1;       // length of the bulk being read; -1: header not read
  std::vector<std::pair<size_t, size_t>> offsets_;  // (offset, length) per argument
  size_t bytes_hint_ = 0;

  std::vector<std::string_view> args_;
  std::vector<std::string> inline_args_;
  std::string error_;
};

// Redis's sdssplitargs: splits a line into arguments honouring "double quotes"
// with \n \r \t \b \a \xHH escapes and 'single quotes' with \'. Returns false on
// unbalanced quotes (or a closing quote not followed by a space).
bool SplitInlineArgs(std::string_view line, std::vector<std::string>* out);

}  // namespace ringkv::server
