// ReplyBuilder: the exact bytes of every reply type in RESP2 and RESP3.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "server/resp/reply_builder.h"

using ringkv::server::ReplyBuilder;

TEST_CASE("RESP2 encodings", "[server][resp]") {
  std::string out;
  ReplyBuilder r(&out, 2);
  r.Ok();
  r.SimpleString("PONG");
  r.Error("ERR bad\r\nthing");
  r.Integer(-42);
  r.Integer(std::numeric_limits<int64_t>::min());
  r.Bulk("hello");
  r.Bulk("");
  r.Null();
  r.NullArray();
  r.MapHeader(2);
  r.SetHeader(3);
  r.Double(1.5);
  r.Double(INFINITY);
  r.Bool(true);
  r.Verbatim("txt");
  REQUIRE(out ==
          "+OK\r\n+PONG\r\n-ERR bad  thing\r\n:-42\r\n:-9223372036854775808\r\n$5\r\nhello\r\n"
          "$0\r\n\r\n$-1\r\n*-1\r\n*4\r\n*3\r\n$3\r\n1.5\r\n$3\r\ninf\r\n:1\r\n$3\r\ntxt\r\n");
}

TEST_CASE("RESP3 encodings", "[server][resp]") {
  std::string out;
  ReplyBuilder r(&out, 3);
  r.Null();
  r.NullArray();
  r.MapHeader(2);
  r.SetHeader(3);
  r.Double(0.1);
  r.Double(-INFINITY);
  r.Bool(false);
  r.Verbatim("a\r\nb");
  REQUIRE(out ==
          "_\r\n_\r\n%2\r\n~3\r\n,0.10000000000000001\r\n,-inf\r\n#f\r\n=8\r\ntxt:a\r\nb\r\n");
}

TEST_CASE("bulk arrays", "[server][resp]") {
  std::string out;
  ReplyBuilder r(&out);
  std::string_view items[] = {"a", "bc"};
  r.BulkArray(items, 2);
  REQUIRE(out == "*2\r\n$1\r\na\r\n$2\r\nbc\r\n");
}
