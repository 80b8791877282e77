// StringMatch: Redis 7.0's stringmatchlen rules, including its edge cases
// (unterminated classes, escapes, reversed ranges, signed bytes), the '*'
// nesting limit and the skip-longer-matches cut that keeps it linear.
#include <catch2/catch.hpp>

#include <string>

#include "server/shard/glob.h"

namespace ringkv::server {
namespace {

TEST_CASE("glob basics", "[server][glob]") {
  // As in Redis, a pattern never matches the empty string unless it is empty
  // (KEYS * and SCAN MATCH * skip matching altogether, so they still list "").
  REQUIRE_FALSE(StringMatch("*", ""));
  REQUIRE(StringMatch("*", "anything"));
  REQUIRE(StringMatch("", ""));
  REQUIRE_FALSE(StringMatch("", "a"));
  REQUIRE_FALSE(StringMatch("?", ""));
  REQUIRE(StringMatch("h?llo", "hello"));
  REQUIRE_FALSE(StringMatch("h?llo", "hllo"));
  REQUIRE(StringMatch("h*llo", "hllo"));
  REQUIRE(StringMatch("h*llo", "heeeello"));
  REQUIRE(StringMatch("a**b", "ab"));
  REQUIRE(StringMatch("ab*", "ab"));
  REQUIRE(StringMatch("ab**", "ab"));
  REQUIRE_FALSE(StringMatch("ab*c", "ab"));
}

TEST_CASE("glob classes, ranges and escapes", "[server][glob]") {
  REQUIRE(StringMatch("h[ae]llo", "hallo"));
  REQUIRE_FALSE(StringMatch("h[ae]llo", "hillo"));
  REQUIRE(StringMatch("h[^e]llo", "hallo"));
  REQUIRE_FALSE(StringMatch("h[^e]llo", "hello"));
  REQUIRE(StringMatch("h[a-c]llo", "hbllo"));
  REQUIRE(StringMatch("h[c-a]llo", "hbllo"));  // reversed range
  REQUIRE_FALSE(StringMatch("h[a-c]llo", "hdllo"));
  REQUIRE(StringMatch("a[\\]]b", "a]b"));
  REQUIRE(StringMatch("a[\\-]b", "a-b"));
  REQUIRE(StringMatch("h\\*llo", "h*llo"));
  REQUIRE_FALSE(StringMatch("h\\*llo", "hello"));
  REQUIRE(StringMatch("\\", "\\"));  // trailing lone backslash is literal
  REQUIRE(StringMatch("a\\\\b", "a\\b"));
  // Unterminated classes behave as if closed at the end of the pattern.
  REQUIRE(StringMatch("h[a", "ha"));
  REQUIRE(StringMatch("[a-", "a"));
  REQUIRE_FALSE(StringMatch("[", "a"));
  REQUIRE(StringMatch("[^", "a"));
  // "[]" is an empty class: it matches nothing.
  REQUIRE_FALSE(StringMatch("[]", "a"));
  // Bytes are signed in ranges: 0x80..0xff sort below ASCII.
  REQUIRE(StringMatch("[\x80-a]", "A"));
  REQUIRE_FALSE(StringMatch("[a-\xff]", "b"));
  // Case folding when asked (KEYS never asks; CONFIG GET does in Redis).
  REQUIRE(StringMatch("HeLLo", "hello", true));
  REQUIRE(StringMatch("[A-C]x", "bX", true));
  REQUIRE_FALSE(StringMatch("HeLLo", "hello"));
}

TEST_CASE("glob stays linear on star-heavy patterns", "[server][glob]") {
  // Exponential for a naive backtracker; Redis's cut makes it fast.
  const std::string text(200, 'a');
  std::string pattern;
  for (int i = 0; i < 40; i++) pattern += "*a";
  pattern += "b";
  REQUIRE_FALSE(StringMatch(pattern, text));
  REQUIRE(StringMatch(pattern.substr(0, pattern.size() - 1), text));
}

TEST_CASE("glob nesting limit matches Redis 7.0", "[server][glob]") {
  // Redis gives up beyond 1000 nested '*': 1001 "a*" groups still match,
  // 1002 do not (checked against redis-server 7.0.15).
  const std::string text(3000, 'a');
  std::string p1001, p1002;
  for (int i = 0; i < 1001; i++) p1001 += "a*";
  p1002 = p1001 + "a*";
  REQUIRE(StringMatch(p1001, text));
  REQUIRE_FALSE(StringMatch(p1002, text));
}

}  // namespace
}  // namespace ringkv::server
