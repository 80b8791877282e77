// The config key table and everything driven by it: YAML loading, command-line
// overrides, CONFIG GET / CONFIG SET. yaml-cpp throws; its exceptions are
// caught here, at the call site, and become a Status.
#include "server/config/config.h"

// g++ 12 reports false -Wdangling-pointer positives inside yaml-cpp's inline
// node code (instantiated in this file); the library is not ours to change.
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "server/cluster/cluster_config.h"
#include "server/commands/arg_parse.h"

namespace ringkv::server {

std::mutex& ConfigMutex() {
  static std::mutex mu;
  return mu;
}

bool ParseMemorySize(std::string_view s, int64_t* out, bool allow_negative) {
  size_t i = 0;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || (i == 0 && s[i] == '-'))) ++i;
  std::string_view digits = s.substr(0, i);
  std::string_view unit = s.substr(i);
  int64_t mul = 1;
  if (unit.empty() || EqualsIgnoreCase(unit, "b")) {
    mul = 1;
  } else if (EqualsIgnoreCase(unit, "k")) {
    mul = 1000;
  } else if (EqualsIgnoreCase(unit, "kb")) {
    mul = 1024;
  } else if (EqualsIgnoreCase(unit, "m")) {
    mul = 1000 * 1000;
  } else if (EqualsIgnoreCase(unit, "mb")) {
    mul = 1024 * 1024;
  } else if (EqualsIgnoreCase(unit, "g")) {
    mul = 1000ll * 1000 * 1000;
  } else if (EqualsIgnoreCase(unit, "gb")) {
    mul = 1024ll * 1024 * 1024;
  } else {
    return false;
  }
  int64_t v;
  if (!ParseInt64(digits, &v)) return false;
  if (v < 0 && !allow_negative) return false;
  if (v != 0 && (v > INT64_MAX / mul || v < INT64_MIN / mul)) return false;
  *out = v * mul;
  return true;
}

namespace {

enum class Kind { kString, kInt, kSize, kBool, kEnum };

// One config key. Exactly one accessor matches `kind`.
struct KeyDef {
  const char* name;
  Kind kind;
  bool runtime_mutable;
  int64_t min;
  int64_t max;
  std::vector<const char*> choices;  // kEnum
  std::string* (*str)(Config*) = nullptr;
  int64_t* (*num)(Config*) = nullptr;
  bool* (*flag)(Config*) = nullptr;
};

constexpr int64_t kMax = INT64_MAX;

const std::vector<KeyDef>& Keys() {
  static const std::vector<KeyDef> keys = {
      {"bind", Kind::kString, false, 0, 0, {}, [](Config* c) { return &c->bind; }},
      {"port", Kind::kInt, false, 0, 65535, {}, nullptr, [](Config* c) { return &c->port; }},
      {"tcp-backlog", Kind::kInt, false, 1, 65535, {}, nullptr,
       [](Config* c) { return &c->tcp_backlog; }},
      {"tcp-keepalive", Kind::kInt, true, 0, kMax / 1000, {}, nullptr,
       [](Config* c) { return &c->tcp_keepalive; }},
      {"timeout", Kind::kInt, true, 0, kMax / 1000, {}, nullptr,
       [](Config* c) { return &c->timeout; }},
      {"maxclients", Kind::kInt, true, 1, 1000000, {}, nullptr,
       [](Config* c) { return &c->maxclients; }},
      {"threads", Kind::kInt, false, 0, 256, {}, nullptr, [](Config* c) { return &c->threads; }},
      {"dir", Kind::kString, false, 0, 0, {}, [](Config* c) { return &c->dir; }},
      {"logfile", Kind::kString, false, 0, 0, {}, [](Config* c) { return &c->logfile; }},
      {"loglevel", Kind::kEnum, true, 0, 0, {"debug", "verbose", "notice", "warning"},
       [](Config* c) { return &c->loglevel; }},
      {"pidfile", Kind::kString, false, 0, 0, {}, [](Config* c) { return &c->pidfile; }},
      {"hz", Kind::kInt, true, 1, 500, {}, nullptr, [](Config* c) { return &c->hz; }},
      {"shards", Kind::kInt, false, 1, 16384, {}, nullptr, [](Config* c) { return &c->shards; }},
      {"storage.engine", Kind::kEnum, false, 0, 0, {"hash", "lsm", "btree"},
       [](Config* c) { return &c->storage.engine; }},
      {"storage.use-wal", Kind::kBool, false, 0, 0, {}, nullptr, nullptr,
       [](Config* c) { return &c->storage.use_wal; }},
      {"storage.sync-wal", Kind::kBool, false, 0, 0, {}, nullptr, nullptr,
       [](Config* c) { return &c->storage.sync_wal; }},
      {"storage.write-buffer-size", Kind::kSize, false, 64 << 10, kMax, {}, nullptr,
       [](Config* c) { return &c->storage.write_buffer_size; }},
      {"storage.block-cache-size", Kind::kSize, false, 0, kMax, {}, nullptr,
       [](Config* c) { return &c->storage.block_cache_size; }},
      {"storage.cache-mb", Kind::kInt, false, 0, 1 << 20, {}, nullptr,
       [](Config* c) { return &c->storage.cache_mb; }},
      {"storage.background-threads", Kind::kInt, false, 1, 64, {}, nullptr,
       [](Config* c) { return &c->storage.background_threads; }},
      {"cluster.enabled", Kind::kBool, false, 0, 0, {}, nullptr, nullptr,
       [](Config* c) { return &c->cluster.enabled; }},
      {"cluster.node-id", Kind::kInt, false, 0, 1 << 30, {}, nullptr,
       [](Config* c) { return &c->cluster.node_id; }},
      {"cluster.nodes", Kind::kString, false, 0, 0, {}, [](Config* c) { return &c->cluster.nodes; }},
      {"cluster.replicas", Kind::kInt, false, 1, 7, {}, nullptr,
       [](Config* c) { return &c->cluster.replicas; }},
      {"cluster.peer-bind", Kind::kString, false, 0, 0, {},
       [](Config* c) { return &c->cluster.peer_bind; }},
      {"cluster.redirect", Kind::kBool, false, 0, 0, {}, nullptr, nullptr,
       [](Config* c) { return &c->cluster.redirect; }},
      {"cluster.follower-reads", Kind::kBool, false, 0, 0, {}, nullptr, nullptr,
       [](Config* c) { return &c->cluster.follower_reads; }},
      {"cluster.shared-loop", Kind::kBool, false, 0, 0, {}, nullptr, nullptr,
       [](Config* c) { return &c->cluster.shared_loop; }},
      {"cluster.read-mode", Kind::kEnum, false, 0, 0, {"linearizable", "stale"},
       [](Config* c) { return &c->cluster.read_mode; }},
      {"cluster.fsync", Kind::kEnum, false, 0, 0, {"always", "batch", "never"},
       [](Config* c) { return &c->cluster.fsync; }},
      {"cluster.tick-ms", Kind::kInt, false, 1, 1000, {}, nullptr,
       [](Config* c) { return &c->cluster.tick_ms; }},
      {"cluster.election-ticks", Kind::kInt, false, 3, 1000, {}, nullptr,
       [](Config* c) { return &c->cluster.election_ticks; }},
      {"cluster.heartbeat-ticks", Kind::kInt, false, 1, 1000, {}, nullptr,
       [](Config* c) { return &c->cluster.heartbeat_ticks; }},
      {"cluster.leaderless-wait-ms", Kind::kInt, false, 0, 600000, {}, nullptr,
       [](Config* c) { return &c->cluster.leaderless_wait_ms; }},
      {"cluster.max-write-bytes", Kind::kInt, false, 1024, 32 << 20, {}, nullptr,
       [](Config* c) { return &c->cluster.max_write_bytes; }},
      {"cluster.max-pending-write-bytes", Kind::kInt, false, 0, 1ll << 30, {}, nullptr,
       [](Config* c) { return &c->cluster.max_pending_write_bytes; }},
      {"cluster.snapshot-entries", Kind::kInt, false, 100, kMax, {}, nullptr,
       [](Config* c) { return &c->cluster.snapshot_entries; }},
      {"cluster.vnodes", Kind::kInt, false, 1, 1024, {}, nullptr,
       [](Config* c) { return &c->cluster.vnodes; }},
      {"maxmemory", Kind::kSize, true, 0, kMax, {}, nullptr,
       [](Config* c) { return &c->maxmemory; }},
      {"maxmemory-policy", Kind::kEnum, true, 0, 0,
       {"noeviction", "allkeys-random", "volatile-random"},
       [](Config* c) { return &c->maxmemory_policy; }},
      {"maxmemory-samples", Kind::kInt, true, 1, 64, {}, nullptr,
       [](Config* c) { return &c->maxmemory_samples; }},
      {"requirepass", Kind::kString, true, 0, 0, {}, [](Config* c) { return &c->requirepass; }},
      {"proto-max-bulk-len", Kind::kSize, true, 1 << 20, kMax, {}, nullptr,
       [](Config* c) { return &c->proto_max_bulk_len; }},
      {"client-query-buffer-limit", Kind::kSize, true, 1 << 20, kMax, {}, nullptr,
       [](Config* c) { return &c->client_query_buffer_limit; }},
      {"client-output-pause-bytes", Kind::kSize, true, 16 << 10, kMax, {}, nullptr,
       [](Config* c) { return &c->client_output_pause_bytes; }},
      {"slowlog-log-slower-than", Kind::kInt, true, -1, kMax, {}, nullptr,
       [](Config* c) { return &c->slowlog_log_slower_than; }},
      {"slowlog-max-len", Kind::kInt, true, 0, 1 << 30, {}, nullptr,
       [](Config* c) { return &c->slowlog_max_len; }},
      {"latency-monitor-threshold", Kind::kInt, true, 0, kMax, {}, nullptr,
       [](Config* c) { return &c->latency_monitor_threshold; }},
  };
  return keys;
}

// Read-only answers for keys that clients and tools ask about (redis-benchmark
// asks "save" and "appendonly"); they describe what this server does.
const std::vector<std::pair<const char*, const char*>>& FixedKeys() {
  static const std::vector<std::pair<const char*, const char*>> keys = {
      {"save", ""},
      {"appendonly", "no"},
      {"databases", "1"},
      {"cluster-enabled", "no"},
  };
  return keys;
}

// Redis spells config keys with dashes; an underscore is accepted in their
// place (storage.cache_mb finds storage.cache-mb), since YAML users type both.
bool SameKeyName(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(a[i])));
    char y = b[i] == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(b[i])));
    if (x != y) return false;
  }
  return true;
}

const KeyDef* FindKey(std::string_view name) {
  for (const KeyDef& k : Keys()) {
    if (SameKeyName(k.name, name)) return &k;
  }
  return nullptr;
}

std::string Quote(std::string_view key) {
  std::string s = "config key '";
  s.append(key);
  s.append("'");
  return s;
}

std::string FormatValue(const KeyDef& k, Config* c) {
  switch (k.kind) {
    case Kind::kString:
    case Kind::kEnum: {
      return *k.str(c);
    }
    case Kind::kInt:
    case Kind::kSize:
      return std::to_string(LoadRelaxed(*k.num(c)));
    case Kind::kBool:
      return *k.flag(c) ? "yes" : "no";
  }
  return {};
}

}  // namespace

Status SetConfigValue(Config* config, std::string_view key, std::string_view value,
                      bool at_runtime) {
  const KeyDef* k = FindKey(key);
  if (k == nullptr) return Status::NotFound("unknown config key '" + std::string(key) + "'");
  if (at_runtime && !k->runtime_mutable) {
    return Status::NotSupported(Quote(k->name) + ": can't set immutable config");
  }
  switch (k->kind) {
    case Kind::kString:
      *k->str(config) = std::string(value);
      return Status::OK();
    case Kind::kEnum:
      for (const char* choice : k->choices) {
        if (EqualsIgnoreCase(choice, value)) {
          *k->str(config) = choice;
          return Status::OK();
        }
      }
      {
        std::string msg = Quote(k->name) + ": value '" + std::string(value) + "' is not one of";
        for (const char* choice : k->choices) msg += std::string(" ") + choice;
        return Status::InvalidArgument(msg);
      }
    case Kind::kBool:
      if (EqualsIgnoreCase(value, "yes") || EqualsIgnoreCase(value, "true")) {
        *k->flag(config) = true;
      } else if (EqualsIgnoreCase(value, "no") || EqualsIgnoreCase(value, "false")) {
        *k->flag(config) = false;
      } else {
        return Status::InvalidArgument(Quote(k->name) + ": expected yes or no, got '" +
                                       std::string(value) + "'");
      }
      return Status::OK();
    case Kind::kInt:
    case Kind::kSize: {
      int64_t v;
      bool ok = k->kind == Kind::kInt ? ParseInt64(value, &v)
                                      : ParseMemorySize(value, &v, k->min < 0);
      if (!ok) {
        return Status::InvalidArgument(
            Quote(k->name) + ": expected " +
            (k->kind == Kind::kInt ? "an integer" : "a memory size like 100mb") + ", got '" +
            std::string(value) + "'");
      }
      if (v < k->min || v > k->max) {
        return Status::OutOfRange(Quote(k->name) + ": value " + std::string(value) +
                                  " out of range [" + std::to_string(k->min) + ", " +
                                  std::to_string(k->max) + "]");
      }
      StoreRelaxed(*k->num(config), v);
      return Status::OK();
    }
  }
  return Status::InvalidArgument("unreachable");
}

namespace {

Status ApplyNode(const YAML::Node& node, const std::string& prefix, Config* config) {
  for (auto it = node.begin(); it != node.end(); ++it) {
    std::string key = it->first.as<std::string>();
    std::string full = prefix.empty() ? key : prefix + "." + key;
    // By value: the iterator yields a temporary pair; a reference would dangle.
    YAML::Node v = it->second;
    if (v.IsMap()) {
      if (FindKey(full) != nullptr) return Status::InvalidArgument(Quote(full) + ": expected a scalar, got a map");
      bool is_section = false;
      for (const KeyDef& k : Keys()) {
        if (std::string_view(k.name).starts_with(full + ".")) is_section = true;
      }
      if (!is_section) return Status::NotFound("unknown config key '" + full + "'");
      RINGKV_RETURN_IF_ERROR(ApplyNode(v, full, config));
    } else if (v.IsSequence()) {
      if (full != "bind") {
        return Status::InvalidArgument(Quote(full) + ": expected a scalar, got a list");
      }
      std::string joined;
      for (const auto& item : v) {
        if (!item.IsScalar()) return Status::InvalidArgument(Quote(full) + ": expected addresses");
        if (!joined.empty()) joined.push_back(' ');
        joined += item.as<std::string>();
      }
      RINGKV_RETURN_IF_ERROR(SetConfigValue(config, full, joined));
    } else if (v.IsNull()) {
      const KeyDef* k = FindKey(full);
      if (k == nullptr) return Status::NotFound("unknown config key '" + full + "'");
      if (k->kind != Kind::kString) return Status::InvalidArgument(Quote(full) + ": missing value");
      RINGKV_RETURN_IF_ERROR(SetConfigValue(config, full, ""));
    } else {
      RINGKV_RETURN_IF_ERROR(SetConfigValue(config, full, v.Scalar()));
    }
  }
  return Status::OK();
}

}  // namespace

Status LoadConfigYaml(std::string_view yaml_text, Config* config) {
  try {
    YAML::Node root = YAML::Load(std::string(yaml_text));
    if (root.IsNull()) return Status::OK();
    if (!root.IsMap()) return Status::InvalidArgument("config: the top level must be a map");
    return ApplyNode(root, "", config);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("config: YAML error: ") + e.what());
  }
}

Status LoadConfigFile(const std::string& path, Config* config) {
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot open config file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  Status s = LoadConfigYaml(ss.str(), config);
  if (!s.ok()) return Status::InvalidArgument(path + ": " + s.message());
  return s;
}

Status ValidateConfig(const Config& config) {
  if (config.bind.find_first_not_of(' ') == std::string::npos) {
    return Status::InvalidArgument(Quote("bind") + ": needs at least one address");
  }
  if (config.dir.empty()) return Status::InvalidArgument(Quote("dir") + ": must not be empty");
  if (config.cluster.heartbeat_ticks >= config.cluster.election_ticks) {
    return Status::InvalidArgument(Quote("cluster.heartbeat-ticks") +
                                   ": must be less than cluster.election-ticks");
  }
  if (config.cluster.enabled) {
    auto nodes = cluster::ParseNodeList(config.cluster.nodes);
    if (!nodes.ok()) return Status::InvalidArgument(Quote("cluster.nodes") + ": " + nodes.status().message());
    if (nodes->empty()) return Status::InvalidArgument(Quote("cluster.nodes") + ": lists no node");
    bool found = false;
    for (const auto& n : *nodes) found = found || n.id == static_cast<uint64_t>(config.cluster.node_id);
    if (!found) {
      return Status::InvalidArgument(Quote("cluster.node-id") + ": " +
                                     std::to_string(config.cluster.node_id) +
                                     " is not in cluster.nodes");
    }
  }
  return Status::OK();
}

Status ParseCommandLine(int argc, const char* const* argv, Config* config) {
  // The file comes first, so command-line keys override it wherever they appear.
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--config") {
      if (i + 1 >= argc) return Status::InvalidArgument("--config needs a file name");
      RINGKV_RETURN_IF_ERROR(LoadConfigFile(argv[i + 1], config));
    }
  }
  for (int i = 1; i < argc; i += 2) {
    std::string_view flag(argv[i]);
    if (!flag.starts_with("--") || flag.size() == 2) {
      return Status::InvalidArgument("unexpected argument '" + std::string(flag) + "'");
    }
    if (i + 1 >= argc) {
      return Status::InvalidArgument("option '" + std::string(flag) + "' needs a value");
    }
    if (flag == "--config") continue;
    Status s = SetConfigValue(config, flag.substr(2), argv[i + 1]);
    if (!s.ok()) return s;
  }
  return ValidateConfig(*config);
}

std::vector<std::pair<std::string, std::string>> ConfigGet(const Config& config,
                                                           std::string_view pattern) {
  std::vector<std::pair<std::string, std::string>> out;
  Config* c = const_cast<Config*>(&config);
  // Our own dotted keys also answer to underscores (storage.cache_mb); Redis's
  // names have none, so only patterns with a dot are rewritten.
  std::string dashed(pattern);
  if (dashed.find('.') != std::string::npos) std::replace(dashed.begin(), dashed.end(), '_', '-');
  for (const KeyDef& k : Keys()) {
    if (GlobMatch(pattern, k.name, true) || GlobMatch(dashed, k.name, true)) {
      out.emplace_back(k.name, FormatValue(k, c));
    }
  }
  for (const auto& [name, value] : FixedKeys()) {
    if (GlobMatch(pattern, name, true)) out.emplace_back(name, value);
  }
  return out;
}

std::vector<std::string> ConfigKeyNames() {
  std::vector<std::string> out;
  for (const KeyDef& k : Keys()) out.push_back(k.name);
  return out;
}

}  // namespace ringkv::server
