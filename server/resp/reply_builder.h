// ReplyBuilder: the only way bytes of a reply reach a client.
//
// Appends RESP2 or RESP3 encodings to an output buffer that the connection
// owns; the differences between the protocol versions live here and nowhere
// else (Redis's addReply* helpers). Owned by one connection, used by one
// thread at a time. Nothing here does I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ringkv::server {

class ReplyBuilder {
 public:
  // Replies are appended to *out, which the caller owns and drains.
  explicit ReplyBuilder(std::string* out, int resp_version = 2)
      : out_(out), resp_version_(resp_version) {}

  int resp_version() const { return resp_version_; }
  void set_resp_version(int v) { resp_version_ = v; }
  std::string* buffer() { return out_; }
  void set_buffer(std::string* out) { out_ = out; }

  // +text (text must not contain CR or LF).
  void SimpleString(std::string_view text);
  void Ok();  // +OK
  // -<message>. `message` starts with the error code, e.g. "ERR syntax error"
  // or "WRONGTYPE Operation against ...". CR/LF inside are replaced by spaces.
  void Error(std::string_view message);
  void Integer(int64_t v);  // :v
  void Bulk(std::string_view data);  // $len data
  void Null();       // RESP2 $-1, RESP3 _   (a missing bulk string)
  void NullArray();  // RESP2 *-1, RESP3 _   (a missing array)
  void ArrayHeader(size_t n);  // *n, then n elements follow
  void MapHeader(size_t n);    // RESP3 %n; RESP2 *2n. Then n key/value pairs follow.
  void SetHeader(size_t n);    // RESP3 ~n; RESP2 *n.
  void Double(double v);       // RESP3 ,v; RESP2 bulk string (Redis's %.17g rules)
  void Bool(bool v);           // RESP3 #t/#f; RESP2 :1/:0
  void Verbatim(std::string_view text);  // RESP3 =len txt:..., RESP2 bulk string
  void BulkArray(const std::string_view* items, size_t n);  // array of bulk strings
  // Bytes already encoded as RESP (e.g. a reply relayed from another node).
  void Raw(std::string_view encoded) { out_->append(encoded); }

 private:
  void Header(char type, int64_t n);

  std::string* out_;
  int resp_version_;
};

}  // namespace ringkv::server
