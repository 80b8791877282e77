// RESP request parsing with Redis 7.0's acceptance rules and error texts
// (networking.c processMultibulkBuffer / processInlineBuffer).
#include "server/resp/resp_parser.h"

#include <cstring>

#include "server/commands/arg_parse.h"

namespace ringkv::server {

namespace {

// Preallocation cap for the argument vectors, as Redis caps its argv: a
// client announcing "*1000000000" must not make us allocate before it sends.
constexpr int64_t kMaxPrealloc = 1024;

inline int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

inline bool IsSpace(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f';
}

}  // namespace

void RespParser::Reset() {
  in_multibulk_ = false;
  pos_ = 0;
  args_remaining_ = 0;
  bulk_len_ = -1;
  offsets_.clear();
  bytes_hint_ = 0;
}

RespParser::Status RespParser::Fail(std::string msg) {
  error_ = "Protocol error: ";
  error_.append(msg);
  Reset();
  return Status::kError;
}

RespParser::Status RespParser::Parse(const char* data, size_t len, size_t* consumed) {
  *consumed = 0;
  bytes_hint_ = 0;
  if (!in_multibulk_) {
    if (len == 0) return Status::kIncomplete;
    if (data[0] != '*') return ParseInline(data, len, consumed);
  }
  return ParseMultibulk(data, len, consumed);
}

RespParser::Status RespParser::ParseMultibulk(const char* data, size_t len, size_t* consumed) {
  if (!in_multibulk_) {
    // The count line: "*<n>\r\n". Like Redis, the byte after '\r' is skipped
    // without being checked.
    const char* cr = static_cast<const char*>(std::memchr(data, '\r', len));
    if (cr == nullptr) {
      if (len > limits_.max_inline_len) return Fail("too big mbulk count string");
      return Status::kIncomplete;
    }
    size_t cr_off = static_cast<size_t>(cr - data);
    if (cr_off + 2 > len) return Status::kIncomplete;
    int64_t n;
    bool ok = ParseInt64(std::string_view(data + 1, cr_off - 1), &n);
    if (!ok || n > limits_.max_multibulk_len) return Fail("invalid multibulk length");
    if (n > limits_.unauth_max_multibulk_len && auth_required_) {
      return Fail("unauthenticated multibulk length");
    }
    if (n <= 0) {
      args_.clear();
      *consumed = cr_off + 2;
      return Status::kOk;
    }
    in_multibulk_ = true;
    pos_ = cr_off + 2;
    args_remaining_ = n;
    bulk_len_ = -1;
    offsets_.clear();
    offsets_.reserve(static_cast<size_t>(n < kMaxPrealloc ? n : kMaxPrealloc));
  }
  while (args_remaining_ > 0) {
    if (bulk_len_ < 0) {
      if (pos_ >= len) return Status::kIncomplete;
      const char* start = data + pos_;
      size_t avail = len - pos_;
      const char* cr = static_cast<const char*>(std::memchr(start, '\r', avail));
      if (cr == nullptr) {
        if (avail > limits_.max_inline_len) return Fail("too big bulk count string");
        return Status::kIncomplete;
      }
      size_t cr_off = static_cast<size_t>(cr - start);
      if (cr_off + 2 > avail) return Status::kIncomplete;
      if (start[0] != '$') {
        std::string msg = "expected '$', got '";
        msg.push_back(start[0]);
        msg.push_back('\'');
        return Fail(std::move(msg));
      }
      int64_t n;
      bool ok = ParseInt64(std::string_view(start + 1, cr_off - 1), &n);
      if (!ok || n < 0 || n > limits_.max_bulk_len) return Fail("invalid bulk length");
      if (n > limits_.unauth_max_bulk_len && auth_required_) {
        return Fail("unauthenticated bulk length");
      }
      bulk_len_ = n;
      pos_ += cr_off + 2;
    }
    size_t need = static_cast<size_t>(bulk_len_) + 2;
    if (len - pos_ < need) {
      bytes_hint_ = pos_ + need;
      return Status::kIncomplete;
    }
    // Like Redis, the two bytes after the payload are skipped unchecked.
    offsets_.emplace_back(pos_, static_cast<size_t>(bulk_len_));
    pos_ += need;
    bulk_len_ = -1;
    --args_remaining_;
  }
  args_.resize(offsets_.size());
  for (size_t i = 0; i < offsets_.size(); ++i) {
    args_[i] = std::string_view(data + offsets_[i].first, offsets_[i].second);
  }
  *consumed = pos_;
  in_multibulk_ = false;
  pos_ = 0;
  return Status::kOk;
}

RespParser::Status RespParser::ParseInline(const char* data, size_t len, size_t* consumed) {
  const char* nl = static_cast<const char*>(std::memchr(data, '\n', len));
  if (nl == nullptr) {
    if (len > limits_.max_inline_len) return Fail("too big inline request");
    return Status::kIncomplete;
  }
  size_t line_len = static_cast<size_t>(nl - data);
  std::string_view line(data, line_len);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  // sdssplitargs works on a C string: a NUL byte ends the line.
  size_t nul = line.find('\0');
  if (nul != std::string_view::npos) line = line.substr(0, nul);
  if (!SplitInlineArgs(line, &inline_args_)) return Fail("unbalanced quotes in request");
  args_.resize(inline_args_.size());
  for (size_t i = 0; i < inline_args_.size(); ++i) args_[i] = inline_args_[i];
  *consumed = line_len + 1;
  return Status::kOk;
}

bool SplitInlineArgs(std::string_view line, std::vector<std::string>* out) {
  out->clear();
  const char* p = line.data();
  const char* end = p + line.size();
  // at(q) reads like sdssplitargs's *q on a NUL-terminated string.
  auto at = [end](const char* q) -> char { return q < end ? *q : '\0'; };
  while (true) {
    while (p < end && IsSpace(*p)) ++p;
    if (p >= end) return true;
    std::string cur;
    bool in_dq = false, in_sq = false, done = false;
    while (!done) {
      char c = at(p);
      if (in_dq) {
        if (c == '\\' && at(p + 1) == 'x' && HexValue(at(p + 2)) >= 0 && HexValue(at(p + 3)) >= 0) {
          cur.push_back(static_cast<char>(HexValue(at(p + 2)) * 16 + HexValue(at(p + 3))));
          p += 3;
        } else if (c == '\\' && at(p + 1) != '\0') {
          ++p;
          char e = *p;
          switch (e) {
            case 'n': cur.push_back('\n'); break;
            case 'r': cur.push_back('\r'); break;
            case 't': cur.push_back('\t'); break;
            case 'b': cur.push_back('\b'); break;
            case 'a': cur.push_back('\a'); break;
            default: cur.push_back(e); break;
          }
        } else if (c == '"') {
          if (at(p + 1) != '\0' && !IsSpace(at(p + 1))) return false;
          done = true;
        } else if (c == '\0') {
          return false;
        } else {
          cur.push_back(c);
        }
      } else if (in_sq) {
        if (c == '\\' && at(p + 1) == '\'') {
          ++p;
          cur.push_back('\'');
        } else if (c == '\'') {
          if (at(p + 1) != '\0' && !IsSpace(at(p + 1))) return false;
          done = true;
        } else if (c == '\0') {
          return false;
        } else {
          cur.push_back(c);
        }
      } else {
        switch (c) {
          case ' ':
          case '\n':
          case '\r':
          case '\t':
          case '\0':
            done = true;
            break;
          case '"':
            in_dq = true;
            break;
          case '\'':
            in_sq = true;
            break;
          default:
            cur.push_back(c);
            break;
        }
      }
      if (p < end) ++p;
    }
    out->push_back(std::move(cur));
  }
}

}  // namespace ringkv::server
