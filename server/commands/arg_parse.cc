// Argument parsers with Redis's exact acceptance rules (util.c string2ll,
// string2ld, stringmatchlen; object.c getDoubleFromObject).
#include "server/commands/arg_parse.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "server/commands/errors.h"
#include "server/shard/glob.h"

namespace ringkv::server {

bool ParseInt64(std::string_view s, int64_t* out) {
  size_t n = s.size();
  if (n == 0 || n > 20) return false;
  const char* p = s.data();
  if (n == 1 && p[0] == '0') {
    *out = 0;
    return true;
  }
  bool negative = false;
  size_t i = 0;
  if (p[0] == '-') {
    negative = true;
    i = 1;
    if (n == 1) return false;
  }
  if (p[i] < '1' || p[i] > '9') return false;
  uint64_t v = 0;
  for (; i < n; ++i) {
    if (p[i] < '0' || p[i] > '9') return false;
    uint64_t d = static_cast<uint64_t>(p[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  if (negative) {
    if (v > static_cast<uint64_t>(INT64_MAX) + 1) return false;
    *out = static_cast<int64_t>(0 - v);
  } else {
    if (v > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = static_cast<int64_t>(v);
  }
  return true;
}

bool ParseUint64(std::string_view s, uint64_t* out) {
  int64_t v;
  if (!ParseInt64(s, &v) || v < 0) return false;
  *out = static_cast<uint64_t>(v);
  return true;
}

namespace {
// Redis's MAX_LONG_DOUBLE_CHARS.
constexpr size_t kMaxLongDoubleChars = 5 * 1024;
}  // namespace

bool ParseLongDouble(std::string_view s, long double* out) {
  char buf[kMaxLongDoubleChars];
  if (s.empty() || s.size() >= sizeof(buf)) return false;
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  errno = 0;
  char* end = nullptr;
  long double v = std::strtold(buf, &end);
  if (std::isspace(static_cast<unsigned char>(buf[0])) || *end != '\0' ||
      (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || std::fpclassify(v) == FP_ZERO)) ||
      errno == EINVAL || std::isnan(v)) {
    return false;
  }
  *out = v;
  return true;
}

bool ParseDouble(std::string_view s, double* out) {
  char buf[kMaxLongDoubleChars];
  if (s.empty() || s.size() >= sizeof(buf)) return false;
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(buf, &end);
  if (std::isspace(static_cast<unsigned char>(buf[0])) || *end != '\0' ||
      (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || std::fpclassify(v) == FP_ZERO)) ||
      std::isnan(v)) {
    return false;
  }
  *out = v;
  return true;
}

// One matcher for every glob (KEYS/SCAN use StringMatch directly): it has
// Redis's guards against exponential patterns.
bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase) {
  return StringMatch(pattern, text, nocase);
}

size_t FormatLongDoubleHuman(long double v, char* buf, size_t buf_len) {
  if (std::isinf(v)) {
    const char* t = v > 0 ? "inf" : "-inf";
    size_t l = std::strlen(t);
    if (l + 1 > buf_len) return 0;
    std::memcpy(buf, t, l + 1);
    return l;
  }
  int n = std::snprintf(buf, buf_len, "%.17Lf", v);
  if (n < 0 || static_cast<size_t>(n) + 1 > buf_len) return 0;
  size_t l = static_cast<size_t>(n);
  if (std::memchr(buf, '.', l) != nullptr) {
    while (l > 0 && buf[l - 1] == '0') --l;
    if (l > 0 && buf[l - 1] == '.') --l;
  }
  if (l == 2 && buf[0] == '-' && buf[1] == '0') {
    buf[0] = '0';
    l = 1;
  }
  buf[l] = '\0';
  return l;
}

bool ParseInt64OrReply(ReplyBuilder* reply, std::string_view s, int64_t* out,
                       std::string_view msg) {
  if (ParseInt64(s, out)) return true;
  reply->Error(msg.empty() ? errors::kNotInteger : msg);
  return false;
}

bool ParseDoubleOrReply(ReplyBuilder* reply, std::string_view s, double* out,
                        std::string_view msg) {
  if (ParseDouble(s, out)) return true;
  reply->Error(msg.empty() ? errors::kNotFloat : msg);
  return false;
}

bool ParseLongDoubleOrReply(ReplyBuilder* reply, std::string_view s, long double* out,
                            std::string_view msg) {
  if (ParseLongDouble(s, out)) return true;
  reply->Error(msg.empty() ? errors::kNotFloat : msg);
  return false;
}

bool ParseRangeOrReply(ReplyBuilder* reply, std::string_view s, int64_t min, int64_t max,
                       int64_t* out, std::string_view msg) {
  int64_t v;
  if (!ParseInt64(s, &v)) {
    reply->Error(msg.empty() ? errors::kNotInteger : msg);
    return false;
  }
  if (v < min || v > max) {
    reply->Error(msg.empty() ? errors::kNotInteger : msg);
    return false;
  }
  *out = v;
  return true;
}

}  // namespace ringkv::server
