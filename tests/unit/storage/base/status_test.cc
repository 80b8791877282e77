// Status carries its code and message; Result carries a value or a Status.
#include <catch2/catch.hpp>

#include "storage/base/status.h"

using namespace ringkv;

static Result<int> Half(int v) {
  if (v % 2) return Status::InvalidArgument("odd");
  return v / 2;
}

TEST_CASE("status codes and text", "[storage][base]") {
  REQUIRE(Status::OK().ok());
  REQUIRE(Status::OK().ToString() == "OK");
  Status s = Status::Corruption("bad block");
  REQUIRE(s.IsCorruption());
  REQUIRE_FALSE(s.ok());
  REQUIRE(s.ToString() == "Corruption: bad block");
  REQUIRE(Status::NotFound().ToString() == "NotFound");
}

TEST_CASE("result holds value or status", "[storage][base]") {
  auto r = Half(8);
  REQUIRE(r.ok());
  REQUIRE(*r == 4);
  auto e = Half(3);
  REQUIRE_FALSE(e.ok());
  REQUIRE(e.status().IsInvalidArgument());
  REQUIRE(e.status().message() == "odd");
}
