// RespParser: valid and invalid request streams, fed whole and in random
// splits, must give the same commands and the same errors as Redis 7.0.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "server/resp/resp_parser.h"

using ringkv::server::RespLimits;
using ringkv::server::RespParser;

namespace {

struct Outcome {
  std::vector<std::vector<std::string>> commands;
  std::string error;  // empty when the stream ended without a protocol error
  size_t leftover = 0;
};

// Feeds `input` in pieces whose sizes come from `rng` (or whole when rng is
// null), keeping the unconsumed bytes contiguous as a connection does.
Outcome Feed(const std::string& input, std::mt19937* rng, RespLimits limits = {}) {
  RespParser parser(limits);
  Outcome out;
  std::string buf;
  size_t fed = 0;
  while (fed < input.size() || !buf.empty()) {
    if (fed < input.size()) {
      size_t n = input.size() - fed;
      if (rng != nullptr) n = std::min<size_t>(n, 1 + (*rng)() % 7);
      buf.append(input, fed, n);
      fed += n;
    }
    bool progressed = true;
    while (progressed && !buf.empty()) {
      size_t consumed = 0;
      auto st = parser.Parse(buf.data(), buf.size(), &consumed);
      progressed = false;
      if (st == RespParser::Status::kError) {
        out.error = parser.error();
        return out;
      }
      if (st == RespParser::Status::kOk) {
        std::vector<std::string> cmd;
        for (auto a : parser.args()) cmd.emplace_back(a);
        if (!cmd.empty()) out.commands.push_back(cmd);
        buf.erase(0, consumed);
        progressed = true;
      }
    }
    if (fed >= input.size()) break;
  }
  out.leftover = buf.size();
  return out;
}

std::string Multibulk(const std::vector<std::string>& args) {
  std::string s = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& a : args) s += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return s;
}

}  // namespace

TEST_CASE("multibulk and inline commands parse in any split", "[server][resp]") {
  std::string binary("a\0b\r\nc", 6);
  std::string input = Multibulk({"SET", "key", binary}) + "PING\r\n" +
                      "set k \"a b\\n\\x41\" 'c\\'d'\r\n" + "*0\r\n" + "\r\n" +
                      Multibulk({"GET", ""}) + "*-1\r\n" + "echo x\n";
  std::vector<std::vector<std::string>> expected = {
      {"SET", "key", binary}, {"PING"}, {"set", "k", "a b\nA", "c'd"}, {"GET", ""}, {"echo", "x"}};
  Outcome whole = Feed(input, nullptr);
  REQUIRE(whole.error.empty());
  REQUIRE(whole.commands == expected);
  REQUIRE(whole.leftover == 0);
  std::mt19937 rng(42);
  for (int round = 0; round < 200; ++round) {
    Outcome split = Feed(input, &rng);
    REQUIRE(split.error.empty());
    REQUIRE(split.commands == expected);
  }
}

TEST_CASE("a deep pipeline parses completely", "[server][resp]") {
  std::string input;
  for (int i = 0; i < 100000; ++i) input += Multibulk({"SET", "k" + std::to_string(i), "v"});
  Outcome out = Feed(input, nullptr);
  REQUIRE(out.error.empty());
  REQUIRE(out.commands.size() == 100000);
  REQUIRE(out.commands[99999][1] == "k99999");
}

TEST_CASE("protocol errors carry Redis's texts", "[server][resp]") {
  struct Case {
    std::string input;
    std::string error;
  };
  std::vector<Case> cases = {
      {"*2147483648\r\n", "Protocol error: invalid multibulk length"},
      {"*x\r\n", "Protocol error: invalid multibulk length"},
      {"*01\r\n", "Protocol error: invalid multibulk length"},
      {"*1\r\n+PING\r\n", "Protocol error: expected '$', got '+'"},
      {"*1\r\n$-1\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$01\r\na\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$536870913\r\n", "Protocol error: invalid bulk length"},
      {"set a \"b\r\n", "Protocol error: unbalanced quotes in request"},
      {"ping \"x\"y\r\n", "Protocol error: unbalanced quotes in request"},
      {std::string(70000, 'x'), "Protocol error: too big inline request"},
      {"*" + std::string(70000, '1'), "Protocol error: too big mbulk count string"},
      {"*1\r\n$" + std::string(70000, '1'), "Protocol error: too big bulk count string"},
  };
  std::mt19937 rng(7);
  for (const Case& c : cases) {
    INFO(c.input.substr(0, 40));
    REQUIRE(Feed(c.input, nullptr).error == c.error);
    REQUIRE(Feed(c.input, &rng).error == c.error);
  }
}

TEST_CASE("a huge announced count allocates nothing up front and waits", "[server][resp]") {
  Outcome out = Feed("*1048577\r\n$3\r\nGET\r\n", nullptr);
  REQUIRE(out.error.empty());
  REQUIRE(out.commands.empty());
  REQUIRE(out.leftover > 0);
}

TEST_CASE("unauthenticated clients get the small limits", "[server][resp]") {
  RespParser p;
  p.set_auth_required(true);
  size_t consumed;
  std::string big = "*11\r\n";
  REQUIRE(p.Parse(big.data(), big.size(), &consumed) == RespParser::Status::kError);
  REQUIRE(p.error() == "Protocol error: unauthenticated multibulk length");
  RespParser q;
  q.set_auth_required(true);
  std::string bulk = "*1\r\n$16385\r\n";
  REQUIRE(q.Parse(bulk.data(), bulk.size(), &consumed) == RespParser::Status::kError);
  REQUIRE(q.error() == "Protocol error: unauthenticated bulk length");
}

TEST_CASE("bytes_hint announces a large bulk's full size", "[server][resp]") {
  RespParser p;
  std::string head = "*2\r\n$3\r\nSET\r\n$100000\r\nabc";
  size_t consumed;
  REQUIRE(p.Parse(head.data(), head.size(), &consumed) == RespParser::Status::kIncomplete);
  REQUIRE(p.bytes_hint() == head.size() - 3 + 100000 + 2);
}

TEST_CASE("random garbage never crashes and always ends in a verdict", "[server][resp]") {
  std::mt19937 rng(1234);
  const char alphabet[] = "*$\r\n0123456789-+abc \"'\\x";
  for (int round = 0; round < 2000; ++round) {
    std::string input;
    size_t len = rng() % 64;
    for (size_t i = 0; i < len; ++i) input.push_back(alphabet[rng() % (sizeof(alphabet) - 1)]);
    Outcome a = Feed(input, nullptr);
    Outcome b = Feed(input, &rng);
    // The verdict does not depend on how the bytes were split.
    REQUIRE(a.error == b.error);
    REQUIRE(a.commands == b.commands);
  }
}
