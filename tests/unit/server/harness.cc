#include "tests/unit/server/harness.h"

#include <catch2/catch.hpp>

#include "server/commands/arg_parse.h"
#include "server/dispatcher.h"

namespace ringkv::server::testing {

namespace {

// Reads "<text>\r\n" at data[pos]; returns false when incomplete.
bool ReadLine(std::string_view data, size_t* pos, std::string_view* line) {
  size_t end = data.find("\r\n", *pos);
  if (end == std::string_view::npos) return false;
  *line = data.substr(*pos, end - *pos);
  *pos = end + 2;
  return true;
}

size_t Decode(std::string_view data, size_t pos, RespValue* out, int depth) {
  if (depth > 64 || pos >= data.size()) return 0;
  char type = data[pos++];
  std::string_view line;
  if (!ReadLine(data, &pos, &line)) return 0;
  out->type = type;
  switch (type) {
    case '+':
    case '-':
    case ',':
      out->str = std::string(line);
      return pos;
    case ':':
      if (!ParseInt64(line, &out->integer)) return 0;
      return pos;
    case '#':
      out->integer = line == "t" ? 1 : 0;
      return pos;
    case '_':
      return pos;
    case '$':
    case '=': {
      int64_t n;
      if (!ParseInt64(line, &n)) return 0;
      if (n < 0) {
        out->type = '_';
        return pos;
      }
      if (pos + static_cast<size_t>(n) + 2 > data.size()) return 0;
      out->str = std::string(data.substr(pos, static_cast<size_t>(n)));
      if (type == '=' && out->str.size() >= 4) out->str = out->str.substr(4);
      return pos + static_cast<size_t>(n) + 2;
    }
    case '*':
    case '~':
    case '%': {
      int64_t n;
      if (!ParseInt64(line, &n)) return 0;
      if (n < 0) {
        out->type = '_';
        return pos;
      }
      size_t count = static_cast<size_t>(type == '%' ? 2 * n : n);
      for (size_t i = 0; i < count; ++i) {
        RespValue v;
        pos = Decode(data, pos, &v, depth + 1);
        if (pos == 0) return 0;
        out->elements.push_back(std::move(v));
      }
      return pos;
    }
    default:
      return 0;
  }
}

}  // namespace

size_t DecodeResp(std::string_view data, RespValue* out) { return Decode(data, 0, out, 0); }

Harness::Harness(HarnessOptions options) : now_ms_(options.start_ms) {
  config_.shards = options.shards;
  config_.requirepass = options.requirepass;
  ShardSet::Options so;
  so.shard_count = options.shards;
  so.engine.kind = storage::EngineKind::kHash;
  auto opened = ShardSet::Open(so);
  REQUIRE(opened.ok());
  shards_ = std::move(opened.value());
  RegisterAllFamilies(&table_);
  stats_ = std::make_unique<ServerStats>(1, table_.all().size());
  process_.run_id = std::string(40, 'a');
  process_.start_time_ms = options.start_ms;
  process_.threads = 1;
  ctx_.config = &config_;
  ctx_.mutable_config = &config_;
  ctx_.shards = shards_.get();
  ctx_.commands = &table_;
  ctx_.stats = stats_.get();
  ctx_.clients = &registry_;
  ctx_.slowlog = &slowlog_;
  ctx_.process = &process_;
  client_.authenticated = options.requirepass.empty();
  client_.addr = "127.0.0.1:40000";
  client_.laddr = "127.0.0.1:6379";
  client_.ctime_ms = options.start_ms;
  registry_.Add(&client_);
}

Harness::~Harness() { registry_.Remove(&client_); }

std::string Harness::RunSpan(const std::vector<std::string_view>& args) {
  out_.clear();
  reply_.set_resp_version(client_.resp);
  Dispatch(&ctx_, stats_->loop(0), &client_, &reply_, args, now_ms_);
  return out_;
}

std::string Harness::Run(std::initializer_list<std::string_view> args) {
  return RunSpan(std::vector<std::string_view>(args));
}

std::string Harness::Run(const std::vector<std::string>& args) {
  std::vector<std::string_view> views(args.begin(), args.end());
  return RunSpan(views);
}

RespValue Harness::RunValue(std::initializer_list<std::string_view> args) {
  std::string raw = Run(args);
  RespValue v;
  INFO("raw reply: " << raw);
  REQUIRE(DecodeResp(raw, &v) == raw.size());
  return v;
}

int64_t Harness::RunInt(std::initializer_list<std::string_view> args) {
  RespValue v = RunValue(args);
  INFO("reply: " << v.type << v.str);
  REQUIRE(v.type == ':');
  return v.integer;
}

std::string Harness::RunBulk(std::initializer_list<std::string_view> args) {
  RespValue v = RunValue(args);
  if (v.is_null()) return "(nil)";
  INFO("reply: " << v.type << v.str);
  REQUIRE((v.type == '$' || v.type == '=' || v.type == '+'));
  return v.str;
}

std::vector<std::string> Harness::RunArray(std::initializer_list<std::string_view> args) {
  RespValue v = RunValue(args);
  INFO("reply: " << v.type << v.str);
  REQUIRE((v.type == '*' || v.type == '~' || v.type == '%'));
  std::vector<std::string> out;
  for (const RespValue& e : v.elements) {
    if (e.is_null()) {
      out.push_back("(nil)");
    } else if (e.type == ':') {
      out.push_back(std::to_string(e.integer));
    } else {
      out.push_back(e.str);
    }
  }
  return out;
}

std::string Harness::RunError(std::initializer_list<std::string_view> args) {
  RespValue v = RunValue(args);
  INFO("reply: " << v.type << v.str);
  REQUIRE(v.type == '-');
  return v.str;
}

}  // namespace ringkv::server::testing
