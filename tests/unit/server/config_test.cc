// Config loading: YAML, command line, validation errors that name the key,
// Redis size units, CONFIG GET globbing, and that conf/ringkv.yaml documents
// every key.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "server/config/config.h"

using namespace ringkv::server;  // NOLINT
using ringkv::Status;

TEST_CASE("memory sizes use Redis units", "[server][config]") {
  int64_t v;
  REQUIRE(ParseMemorySize("1gb", &v));
  REQUIRE(v == 1073741824);
  REQUIRE(ParseMemorySize("512MB", &v));
  REQUIRE(v == 512ll << 20);
  REQUIRE(ParseMemorySize("100kb", &v));
  REQUIRE(v == 102400);
  REQUIRE(ParseMemorySize("1k", &v));
  REQUIRE(v == 1000);
  REQUIRE(ParseMemorySize("42", &v));
  REQUIRE(v == 42);
  REQUIRE_FALSE(ParseMemorySize("1tb", &v));
  REQUIRE_FALSE(ParseMemorySize("-1mb", &v));
  REQUIRE_FALSE(ParseMemorySize("", &v));
  REQUIRE_FALSE(ParseMemorySize("99999999999999gb", &v));
}

TEST_CASE("YAML loads nested keys and sizes", "[server][config]") {
  Config c;
  Status s = LoadConfigYaml(
      "port: 7000\nthreads: 2\nmaxmemory: 1gb\nstorage:\n  engine: lsm\n  use-wal: yes\n"
      "bind: [127.0.0.1, \"::1\"]\nrequirepass:\n",
      &c);
  REQUIRE(s.ok());
  REQUIRE(c.port == 7000);
  REQUIRE(c.threads == 2);
  REQUIRE(c.maxmemory == 1073741824);
  REQUIRE(c.storage.engine == "lsm");
  REQUIRE(c.storage.use_wal);
  REQUIRE(c.bind == "127.0.0.1 ::1");
  REQUIRE(c.requirepass.empty());
}

TEST_CASE("bad config values name the key", "[server][config]") {
  struct Case {
    const char* yaml;
    const char* needle;
  };
  Case cases[] = {
      {"nosuchkey: 1\n", "unknown config key 'nosuchkey'"},
      {"storage:\n  colour: red\n", "unknown config key 'storage.colour'"},
      {"port: 70000\n", "'port': value 70000 out of range"},
      {"port: abc\n", "'port': expected an integer"},
      {"maxmemory: lots\n", "'maxmemory': expected a memory size"},
      {"storage:\n  engine: rocks\n", "'storage.engine': value 'rocks' is not one of"},
      {"storage: 5\n", "'storage'"},
      {"port: [1, 2]\n", "'port': expected a scalar, got a list"},
      {"port: {a: 1}\n", "'port': expected a scalar, got a map"},
      {"port: [1, 2\n", "YAML error"},
      {"- 1\n- 2\n", "top level must be a map"},
  };
  for (const Case& k : cases) {
    Config c;
    Status s = LoadConfigYaml(k.yaml, &c);
    INFO(k.yaml << " -> " << s.ToString());
    REQUIRE_FALSE(s.ok());
    REQUIRE(s.message().find(k.needle) != std::string::npos);
  }
}

TEST_CASE("command line overrides the file, dotted keys work", "[server][config]") {
  std::string path = "/tmp/ringkv_config_test_" + std::to_string(::getpid()) + ".yaml";
  {
    std::ofstream f(path);
    f << "port: 7000\nhz: 20\n";
  }
  const char* argv[] = {"ringkv-server", "--port", "7001", "--config", path.c_str(),
                        "--storage.engine", "btree", "--maxmemory", "100mb"};
  Config c;
  Status s = ParseCommandLine(9, argv, &c);
  REQUIRE(s.ok());
  REQUIRE(c.port == 7001);
  REQUIRE(c.hz == 20);
  REQUIRE(c.storage.engine == "btree");
  REQUIRE(c.maxmemory == 100ll << 20);
  const char* bad[] = {"ringkv-server", "--prot", "7001"};
  Config c2;
  Status s2 = ParseCommandLine(3, bad, &c2);
  REQUIRE_FALSE(s2.ok());
  REQUIRE(s2.message().find("'prot'") != std::string::npos);
  const char* missing[] = {"ringkv-server", "--port"};
  REQUIRE_FALSE(ParseCommandLine(2, missing, &c2).ok());
  const char* wait[] = {"ringkv-server", "--cluster.leaderless-wait-ms", "250"};
  Config c3;
  REQUIRE(ParseCommandLine(3, wait, &c3).ok());
  REQUIRE(c3.cluster.leaderless_wait_ms == 250);
  const char* beat[] = {"ringkv-server", "--cluster.heartbeat-ticks", "2"};
  Config c4;
  REQUIRE(ParseCommandLine(3, beat, &c4).ok());
  REQUIRE(c4.cluster.heartbeat_ticks == 2);
  // Raft needs a follower to hear several beats per election timeout.
  const char* slow_beat[] = {"ringkv-server", "--cluster.heartbeat-ticks", "20",
                             "--cluster.election-ticks", "20"};
  Config c5;
  Status s5 = ParseCommandLine(5, slow_beat, &c5);
  REQUIRE_FALSE(s5.ok());
  REQUIRE(s5.message().find("heartbeat-ticks") != std::string::npos);
  std::remove(path.c_str());
}

TEST_CASE("runtime changes refuse immutable keys", "[server][config]") {
  Config c;
  REQUIRE(SetConfigValue(&c, "maxmemory", "10mb", true).ok());
  REQUIRE(c.maxmemory == 10ll << 20);
  REQUIRE(SetConfigValue(&c, "port", "1", true).IsNotSupported());
  REQUIRE(SetConfigValue(&c, "nope", "1", true).IsNotFound());
  REQUIRE(SetConfigValue(&c, "MAXMEMORY-POLICY", "allkeys-random", true).ok());
  REQUIRE(c.maxmemory_policy == "allkeys-random");
}

TEST_CASE("CONFIG GET globbing", "[server][config]") {
  Config c;
  auto all = ConfigGet(c, "*");
  REQUIRE(all.size() >= ConfigKeyNames().size());
  auto maxm = ConfigGet(c, "maxmemory*");
  REQUIRE(maxm.size() == 3);
  REQUIRE(maxm[0] == std::make_pair(std::string("maxmemory"), std::string("0")));
  auto save = ConfigGet(c, "save");
  REQUIRE(save.size() == 1);
  REQUIRE(save[0].second.empty());
  REQUIRE(ConfigGet(c, "APPENDONLY")[0].second == "no");
}

TEST_CASE("conf/ringkv.yaml documents every key and loads cleanly", "[server][config]") {
  std::ifstream f(RINGKV_SOURCE_DIR "/conf/ringkv.yaml");
  REQUIRE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  std::string text = ss.str();
  for (const std::string& key : ConfigKeyNames()) {
    std::string leaf = key.substr(key.rfind('.') == std::string::npos ? 0 : key.rfind('.') + 1);
    INFO(key);
    REQUIRE(text.find(leaf + ":") != std::string::npos);
  }
  Config c;
  REQUIRE(LoadConfigYaml(text, &c).ok());
  Config defaults;
  REQUIRE(c.port == 6379);
  REQUIRE(c.bind == "127.0.0.1");
  REQUIRE(c.maxclients == defaults.maxclients);
  REQUIRE(c.proto_max_bulk_len == defaults.proto_max_bulk_len);
}
