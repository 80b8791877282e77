// errors::WithCode: every error reply starts with a code word clients can read.
#include <catch2/catch.hpp>

#include "server/commands/errors.h"

namespace ringkv::server {
namespace {

TEST_CASE("an engine's plain error text gets ERR; a Redis error keeps its code", "[server][errors]") {
  REQUIRE(errors::WithCode("ERR syntax error") == "ERR syntax error");
  REQUIRE(errors::WithCode(errors::kWrongType) == std::string(errors::kWrongType));
  REQUIRE(errors::WithCode("CROSSSLOT Keys in request don't hash to the same slot") ==
          "CROSSSLOT Keys in request don't hash to the same slot");
  REQUIRE(errors::WithCode("btree: key of 3000 bytes exceeds the limit of 990 for page_bytes 4096") ==
          "ERR btree: key of 3000 bytes exceeds the limit of 990 for page_bytes 4096");
  REQUIRE(errors::WithCode("invalid scan cursor") == "ERR invalid scan cursor");
  REQUIRE(errors::WithCode("A lone capital") == "ERR A lone capital");
  REQUIRE(errors::WithCode("ERR") == "ERR ERR");
  REQUIRE(errors::WithCode("") == "ERR ");
}

}  // namespace
}  // namespace ringkv::server
