// RESP2/RESP3 encodings (Redis networking.c addReply*). Every helper appends
// straight into the connection's output buffer: no temporaries on the hot path.
#include "server/resp/reply_builder.h"

#include <cmath>
#include <cstdio>
#include <cstring>

namespace ringkv::server {

namespace {

// Writes the decimal form of v ending at `end` (exclusive); returns its start.
inline char* FormatInt(int64_t v, char* end) {
  uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  char* p = end;
  do {
    *--p = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u != 0);
  if (v < 0) *--p = '-';
  return p;
}

inline void AppendHeader(std::string* out, char type, int64_t n) {
  char buf[24];
  char* end = buf + sizeof(buf);
  end[-1] = '\n';
  end[-2] = '\r';
  char* p = FormatInt(n, end - 2);
  *--p = type;
  out->append(p, static_cast<size_t>(end - p));
}

}  // namespace

void ReplyBuilder::Header(char type, int64_t n) { AppendHeader(out_, type, n); }

void ReplyBuilder::SimpleString(std::string_view text) {
  size_t old = out_->size();
  out_->resize(old + text.size() + 3);
  char* p = out_->data() + old;
  *p++ = '+';
  std::memcpy(p, text.data(), text.size());
  p += text.size();
  p[0] = '\r';
  p[1] = '\n';
}

void ReplyBuilder::Ok() { out_->append("+OK\r\n", 5); }

void ReplyBuilder::Error(std::string_view message) {
  size_t old = out_->size();
  out_->push_back('-');
  out_->append(message);
  for (size_t i = old + 1; i < out_->size(); ++i) {
    if ((*out_)[i] == '\r' || (*out_)[i] == '\n') (*out_)[i] = ' ';
  }
  out_->append("\r\n", 2);
}

void ReplyBuilder::Integer(int64_t v) { AppendHeader(out_, ':', v); }

void ReplyBuilder::Bulk(std::string_view data) {
  char buf[24];
  char* end = buf + sizeof(buf);
  end[-1] = '\n';
  end[-2] = '\r';
  char* p = FormatInt(static_cast<int64_t>(data.size()), end - 2);
  *--p = '$';
  size_t hlen = static_cast<size_t>(end - p);
  size_t old = out_->size();
  out_->resize(old + hlen + data.size() + 2);
  char* w = out_->data() + old;
  std::memcpy(w, p, hlen);
  w += hlen;
  if (!data.empty()) std::memcpy(w, data.data(), data.size());
  w += data.size();
  w[0] = '\r';
  w[1] = '\n';
}

void ReplyBuilder::Null() {
  if (resp_version_ >= 3) {
    out_->append("_\r\n", 3);
  } else {
    out_->append("$-1\r\n", 5);
  }
}

void ReplyBuilder::NullArray() {
  if (resp_version_ >= 3) {
    out_->append("_\r\n", 3);
  } else {
    out_->append("*-1\r\n", 5);
  }
}

void ReplyBuilder::ArrayHeader(size_t n) { Header('*', static_cast<int64_t>(n)); }

void ReplyBuilder::MapHeader(size_t n) {
  if (resp_version_ >= 3) {
    Header('%', static_cast<int64_t>(n));
  } else {
    Header('*', static_cast<int64_t>(2 * n));
  }
}

void ReplyBuilder::SetHeader(size_t n) {
  Header(resp_version_ >= 3 ? '~' : '*', static_cast<int64_t>(n));
}

void ReplyBuilder::Double(double v) {
  char buf[64];
  int n;
  if (std::isinf(v)) {
    n = std::snprintf(buf, sizeof(buf), "%s", v > 0 ? "inf" : "-inf");
  } else {
    n = std::snprintf(buf, sizeof(buf), "%.17g", v);
  }
  std::string_view text(buf, static_cast<size_t>(n));
  if (resp_version_ >= 3) {
    out_->push_back(',');
    out_->append(text);
    out_->append("\r\n", 2);
  } else {
    Bulk(text);
  }
}

void ReplyBuilder::Bool(bool v) {
  if (resp_version_ >= 3) {
    out_->append(v ? "#t\r\n" : "#f\r\n", 4);
  } else {
    out_->append(v ? ":1\r\n" : ":0\r\n", 4);
  }
}

void ReplyBuilder::Verbatim(std::string_view text) {
  if (resp_version_ >= 3) {
    Header('=', static_cast<int64_t>(text.size() + 4));
    out_->append("txt:", 4);
    out_->append(text);
    out_->append("\r\n", 2);
  } else {
    Bulk(text);
  }
}

void ReplyBuilder::BulkArray(const std::string_view* items, size_t n) {
  ArrayHeader(n);
  for (size_t i = 0; i < n; ++i) Bulk(items[i]);
}

}  // namespace ringkv::server
