// Harness: an in-process ringkv server for command-family tests.
//
// Holds a ServerContext with a ShardSet on the in-memory hash engine, a
// CommandTable with every family registered, and one fake client. Run() goes
// through the real dispatcher (arity, auth, stats, CLIENT REPLY ...) and
// returns the raw RESP bytes of the reply; the Run* helpers decode them and
// FAIL the test on a reply of another type. Time is a settable clock
// (now_ms), so expiry tests are deterministic.
//
//   Harness h;
//   REQUIRE(h.Run({"set", "k", "v"}) == "+OK\r\n");
//   REQUIRE(h.RunBulk({"get", "k"}) == "v");
//   h.AdvanceMs(1500);
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/client_state.h"
#include "server/commands/command.h"
#include "server/config/config.h"
#include "server/net/client_registry.h"
#include "server/process_info.h"
#include "server/resp/reply_builder.h"
#include "server/server_context.h"
#include "server/server_stats.h"
#include "server/shard/shard_set.h"
#include "server/slowlog.h"

namespace ringkv::server::testing {

// A decoded RESP2/RESP3 reply.
struct RespValue {
  // '+' simple, '-' error, ':' integer, '$' bulk, '*' array, '_' null,
  // '%' map, '~' set, ',' double, '#' bool, '=' verbatim. A RESP2 null bulk
  // or null array decodes as '_'.
  char type = '_';
  std::string str;   // simple, error, bulk, verbatim (without "txt:"), double text
  int64_t integer = 0;  // integer; bool as 0/1
  std::vector<RespValue> elements;  // array, set; map as k1, v1, k2, v2 ...
  bool is_null() const { return type == '_'; }
};

// Decodes one reply from the front of `data`; returns bytes used, 0 if
// incomplete or malformed.
size_t DecodeResp(std::string_view data, RespValue* out);

struct HarnessOptions {
  uint32_t shards = 4;
  std::string requirepass;
  int64_t start_ms = 1'700'000'000'000;  // 2023-11-14
};

class Harness {
 public:
  explicit Harness(HarnessOptions options = {});
  ~Harness();

  // Runs one command; returns the raw reply bytes ("" when CLIENT REPLY
  // suppressed it).
  std::string Run(std::initializer_list<std::string_view> args);
  std::string Run(const std::vector<std::string>& args);

  // Decoding helpers: each FAILs the current test when the reply has another type.
  int64_t RunInt(std::initializer_list<std::string_view> args);
  // The bulk string, or "(nil)" for a null reply.
  std::string RunBulk(std::initializer_list<std::string_view> args);
  std::vector<std::string> RunArray(std::initializer_list<std::string_view> args);
  // The error text without '-', e.g. "ERR syntax error".
  std::string RunError(std::initializer_list<std::string_view> args);
  RespValue RunValue(std::initializer_list<std::string_view> args);

  int64_t now_ms() const { return now_ms_; }
  void set_now_ms(int64_t ms) { now_ms_ = ms; }
  void AdvanceMs(int64_t ms) { now_ms_ += ms; }

  ServerContext& server() { return ctx_; }
  Config& config() { return config_; }
  ClientState& client() { return client_; }
  ShardSet& shards() { return *shards_; }
  ServerStats& stats() { return *stats_; }

 private:
  std::string RunSpan(const std::vector<std::string_view>& args);

  Config config_;
  std::unique_ptr<ShardSet> shards_;
  CommandTable table_;
  std::unique_ptr<ServerStats> stats_;
  ClientRegistry registry_;
  SlowLog slowlog_;
  ProcessInfo process_;
  ServerContext ctx_;
  ClientState client_;
  std::string out_;
  ReplyBuilder reply_{&out_};
  int64_t now_ms_;
};

}  // namespace ringkv::server::testing
