#include "server/cluster/resp_reply.h"

#include "server/commands/arg_parse.h"

namespace ringkv::server::cluster {

namespace {

// Reads "<type><text>\r\n" at `pos`: the text and the position after CRLF.
bool ReadLine(std::string_view s, size_t pos, std::string_view* text, size_t* next) {
  size_t crlf = s.find("\r\n", pos);
  if (crlf == std::string_view::npos || crlf <= pos) return false;
  *text = s.substr(pos + 1, crlf - pos - 1);
  *next = crlf + 2;
  return true;
}

}  // namespace

bool ParseIntegerReply(std::string_view reply, int64_t* value) {
  std::string_view text;
  size_t next = 0;
  if (reply.empty() || reply[0] != ':' || !ReadLine(reply, 0, &text, &next)) return false;
  return next == reply.size() && ParseInt64(text, value);
}

bool SplitArrayReply(std::string_view reply, std::vector<std::string_view>* items) {
  items->clear();
  std::string_view text;
  size_t pos = 0;
  if (reply.empty() || reply[0] != '*' || !ReadLine(reply, 0, &text, &pos)) return false;
  int64_t n = 0;
  if (!ParseInt64(text, &n) || n < 0 || static_cast<uint64_t>(n) > reply.size()) return false;
  for (int64_t i = 0; i < n; ++i) {
    if (pos >= reply.size()) return false;
    size_t start = pos, next = 0;
    char type = reply[pos];
    if (!ReadLine(reply, pos, &text, &next)) return false;
    if (type == '$') {
      int64_t len = 0;
      if (!ParseInt64(text, &len)) return false;
      if (len >= 0) {
        if (next + static_cast<size_t>(len) + 2 > reply.size()) return false;
        next += static_cast<size_t>(len) + 2;
      }
    } else if (type != '_' && type != ':' && type != '+' && type != '-') {
      return false;
    }
    items->push_back(reply.substr(start, next - start));
    pos = next;
  }
  return pos == reply.size();
}

bool SplitScanReply(std::string_view reply, std::string_view* cursor,
                    std::vector<std::string_view>* keys) {
  constexpr std::string_view kHeader = "*2\r\n";
  if (reply.substr(0, kHeader.size()) != kHeader) return false;
  size_t pos = kHeader.size();
  std::string_view text;
  size_t next = 0;
  if (pos >= reply.size() || reply[pos] != '$' || !ReadLine(reply, pos, &text, &next)) return false;
  int64_t len = 0;
  if (!ParseInt64(text, &len) || len < 0 || next + static_cast<size_t>(len) + 2 > reply.size() ||
      reply.substr(next + static_cast<size_t>(len), 2) != "\r\n") {
    return false;
  }
  *cursor = reply.substr(next, static_cast<size_t>(len));
  return SplitArrayReply(reply.substr(next + static_cast<size_t>(len) + 2), keys);
}

}  // namespace ringkv::server::cluster
