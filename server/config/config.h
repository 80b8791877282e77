// Config: every setting of ringkv-server as plain data, plus the table that
// loads, validates, prints and changes it.
//
// One descriptor table (config_table.cc) drives the YAML loader, command-line
// overrides (--key value, nested keys dotted: --storage.engine lsm), CONFIG
// GET / CONFIG SET and the documentation in conf/ringkv.yaml, so a key exists
// everywhere or nowhere.
//
// Threading: the Config is written at start-up and afterwards only by CONFIG
// SET, under ConfigMutex(). Numeric fields that loop threads read on every
// command are read through LoadRelaxed() (std::atomic_ref), string fields
// (requirepass, dir ...) under ConfigMutex().
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/status.h"

namespace ringkv::server {

struct StorageConfig {
  std::string engine = "hash";  // hash | lsm | btree
  // The engine's own WAL: on by default so a restarted lsm/btree server keeps
  // every acknowledged write (ignored by hash, which is memory only).
  bool use_wal = true;
  bool sync_wal = false;
  int64_t write_buffer_size = 4ll << 20;  // per shard
  int64_t block_cache_size = 256ll << 20;  // total, split evenly over the shards
  int64_t cache_mb = 0;                   // hot-key cache in front of lsm/btree, total
  int64_t background_threads = 2;         // flush / compaction workers
};

// Cluster mode (issue 5): the node's identity and the static membership it
// starts from. See conf/cluster-3/ for a three-node example.
struct ClusterConfig {
  bool enabled = false;
  int64_t node_id = 0;  // 1.., unique in the cluster, listed in `nodes`
  // Every member: "id@host:port:peer-port", space separated (this node too).
  std::string nodes;
  int64_t replicas = 3;  // R: replicas per shard (capped at the node count)
  std::string peer_bind;  // address for the peer port; empty = this node's host in `nodes`
  bool redirect = false;  // answer -MOVED instead of forwarding to the leader
  std::string read_mode = "linearizable";  // linearizable | stale (READONLY connections)
  // Reads of a shard with a replica here but its leader elsewhere: served here after
  // a (batched) follower ReadIndex, instead of forwarded to the leader. Both are
  // linearizable; this one moves no command or reply bytes between nodes.
  bool follower_reads = false;
  // Loop thread 0 runs on the replication thread's loop: its clients' writes
  // reach Raft and their replies come back without a cross-thread wakeup.
  bool shared_loop = true;
  std::string fsync = "always";            // always | batch | never
  int64_t tick_ms = 10;
  int64_t election_ticks = 20;
  // A leader heartbeats every group this often (one coalesced batch per peer).
  // Leases stay valid while a quorum acknowledged within the election timeout,
  // so this only has to be well below it; each beat wakes every peer.
  int64_t heartbeat_ticks = 5;
  // How long a command for a shard with no known leader waits for one (an
  // election) before it gets -CLUSTERDOWN.
  int64_t leaderless_wait_ms = 3000;
  // The largest write (the sum of its arguments' bytes) a cluster accepts. A
  // write is copied several times on every replica's replication thread, which
  // stops Raft's ticks meanwhile: 16 MB stalled it for 0.3-0.5 s and re-elected
  // every shard; 4 MB for 20 ms.
  int64_t max_write_bytes = 4 << 20;
  // Bytes of writes a loop thread's clients may have waiting for Raft at once
  // before a pipelining connection stops dispatching more (0: no bound). Every
  // byte of a round is written, encoded, sent and applied in one callback on
  // the thread that ticks Raft; 50 clients with -P 1000 of 1 KB put 50 MB in
  // one round and stalled it past the election timeout.
  int64_t max_pending_write_bytes = 4 << 20;
  int64_t snapshot_entries = 100000;  // log entries per group between snapshots
  int64_t vnodes = 16;                // tokens per node on the ring (its weight)
};

struct Config {
  // Network.
  std::string bind = "127.0.0.1";  // space-separated list of addresses
  int64_t port = 6379;
  int64_t tcp_backlog = 511;
  int64_t tcp_keepalive = 300;  // seconds; 0 = off
  int64_t timeout = 0;          // idle client timeout in seconds; 0 = never
  int64_t maxclients = 10000;
  // Process.
  int64_t threads = 0;  // loop threads; 0 = number of cores
  std::string dir = "./data";
  std::string logfile;  // empty = stderr
  std::string loglevel = "notice";
  std::string pidfile;
  int64_t hz = 10;
  // Keyspace.
  int64_t shards = 64;
  StorageConfig storage;
  ClusterConfig cluster;
  int64_t maxmemory = 0;
  std::string maxmemory_policy = "noeviction";
  int64_t maxmemory_samples = 5;
  // Security.
  std::string requirepass;
  // Limits.
  int64_t proto_max_bulk_len = 512ll << 20;
  int64_t client_query_buffer_limit = 1ll << 30;
  // Reading from a client pauses while its unsent output exceeds this.
  int64_t client_output_pause_bytes = 64ll << 20;
  // Slow log / latency.
  int64_t slowlog_log_slower_than = 10000;  // microseconds; -1 disables, 0 logs all
  int64_t slowlog_max_len = 128;
  int64_t latency_monitor_threshold = 0;  // milliseconds; 0 disables
};

// Guards writes to the process Config (CONFIG SET) and reads of its strings.
std::mutex& ConfigMutex();

template <typename T>
inline T LoadRelaxed(const T& field) {
  return std::atomic_ref<T>(const_cast<T&>(field)).load(std::memory_order_relaxed);
}
template <typename T>
inline void StoreRelaxed(T& field, T v) {
  std::atomic_ref<T>(field).store(v, std::memory_order_relaxed);
}

// Parses a Redis memory size: digits with an optional unit b, k, kb, m, mb, g,
// gb (case-insensitive; k = 1000, kb = 1024), e.g. "512mb". Negative allowed
// only when allow_negative.
bool ParseMemorySize(std::string_view s, int64_t* out, bool allow_negative = false);

// Applies a YAML document (the text of a config file) over *config.
// Errors name the key: "unknown config key 'foo'", "config key 'port': value
// 70000 out of range [0, 65535]", "config key 'storage': expected a map" ...
Status LoadConfigYaml(std::string_view yaml_text, Config* config);
Status LoadConfigFile(const std::string& path, Config* config);

// Applies one "key value" setting (dotted names for nested keys). Used by the
// command line and CONFIG SET (`at_runtime` rejects keys that cannot change
// while running, with Redis's error text).
Status SetConfigValue(Config* config, std::string_view key, std::string_view value,
                      bool at_runtime = false);

// Cross-key checks after everything is applied (e.g. engine name known).
Status ValidateConfig(const Config& config);

// Parses argv: --config FILE first (wherever it appears), then every other
// --key value in order. Unknown flags are errors naming the key.
Status ParseCommandLine(int argc, const char* const* argv, Config* config);

// Every (name, value) whose name matches the glob `pattern` (case-insensitive),
// in table order, values printed as CONFIG GET prints them.
std::vector<std::pair<std::string, std::string>> ConfigGet(const Config& config,
                                                           std::string_view pattern);

// The names of every key (for the documentation test).
std::vector<std::string> ConfigKeyNames();

}  // namespace ringkv::server
