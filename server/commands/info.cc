// INFO sections. Every figure is measured, none is invented: sections Redis
// has but ringkv does not implement (replication, persistence) report what is
// true for a single node without RDB/AOF.
#include "server/commands/info.h"

#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <set>

#include "server/cluster/cluster_view.h"
#include "server/commands/arg_parse.h"
#include "server/commands/command.h"
#include "server/config/config.h"
#include "server/memory_info.h"
#include "server/net/client_registry.h"
#include "server/process_info.h"
#include "server/server_context.h"
#include "server/server_stats.h"
#include "server/shard/shard_set.h"

namespace ringkv::server {

namespace {

constexpr const char* kRedisVersion = "7.0.15";
constexpr const char* kRingkvVersion = "0.1.0";

class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}
  void Section(const char* name) {
    if (!out_->empty()) out_->append("\r\n");
    out_->append("# ");
    out_->append(name);
    out_->append("\r\n");
  }
  void Field(std::string_view name, std::string_view value) {
    out_->append(name);
    out_->push_back(':');
    out_->append(value);
    out_->append("\r\n");
  }
  void Int(std::string_view name, int64_t v) { Field(name, std::to_string(v)); }
  void Double(std::string_view name, double v, int digits = 2) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
    Field(name, buf);
  }

 private:
  std::string* out_;
};

int64_t TotalSystemMemory() {
  long pages = sysconf(_SC_PHYS_PAGES);
  long page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<int64_t>(pages) * page : 0;
}

void ServerSection(ServerContext* s, Writer& w, int64_t now_ms) {
  const ProcessInfo* p = s->process;
  w.Section("Server");
  w.Field("redis_version", kRedisVersion);
  w.Field("ringkv_version", kRingkvVersion);
  w.Field("redis_git_sha1", "00000000");
  w.Field("redis_git_dirty", "0");
  w.Field("redis_build_id", "0");
  w.Field("redis_mode", "standalone");
  utsname u;
  if (uname(&u) == 0) {
    w.Field("os", std::string(u.sysname) + " " + u.release + " " + u.machine);
  }
  w.Field("arch_bits", "64");
  w.Field("monotonic_clock", "POSIX clock_gettime");
  w.Field("multiplexing_api", "epoll");
  w.Field("atomicvar_api", "c11-builtin");
  w.Field("gcc_version", std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) + "." +
                             std::to_string(__GNUC_PATCHLEVEL__));
  w.Int("process_id", getpid());
  w.Field("process_supervised", "no");
  int64_t start_ms = p != nullptr ? p->start_time_ms : now_ms;
  w.Field("run_id", p != nullptr ? p->run_id : std::string(40, '0'));
  w.Int("tcp_port", p != nullptr ? p->tcp_port : 0);
  w.Int("server_time_usec", now_ms * 1000);
  int64_t uptime_s = (now_ms - start_ms) / 1000;
  w.Int("uptime_in_seconds", uptime_s);
  w.Int("uptime_in_days", uptime_s / 86400);
  w.Int("hz", LoadRelaxed(s->config->hz));
  w.Int("configured_hz", LoadRelaxed(s->config->hz));
  w.Int("lru_clock", (now_ms / 1000) & ((1 << 24) - 1));
  w.Field("executable", p != nullptr ? p->executable : "");
  w.Field("config_file", p != nullptr ? p->config_file : "");
  w.Int("io_threads_active", 0);
  w.Int("loop_threads", p != nullptr ? p->threads : 1);
}

void ClientsSection(ServerContext* s, Writer& w) {
  w.Section("Clients");
  w.Int("connected_clients", static_cast<int64_t>(s->clients->count()));
  w.Int("cluster_connections", 0);
  w.Int("maxclients", LoadRelaxed(s->config->maxclients));
  uint64_t max_in = 0, max_out = 0;
  s->clients->ForEach([&](ClientState& c) {
    max_in = std::max<uint64_t>(max_in, c.query_buffer_bytes.load(std::memory_order_relaxed));
    max_out = std::max<uint64_t>(max_out, c.output_buffer_bytes.load(std::memory_order_relaxed));
  });
  w.Int("client_recent_max_input_buffer", static_cast<int64_t>(max_in));
  w.Int("client_recent_max_output_buffer", static_cast<int64_t>(max_out));
  w.Int("blocked_clients", 0);
  w.Int("tracking_clients", 0);
  w.Int("clients_in_timeout_table", 0);
}

void MemorySection(ServerContext* s, Writer& w) {
  MemoryInfo m = ReadMemoryInfo();
  int64_t peak = s->stats->used_memory_peak.load(std::memory_order_relaxed);
  if (m.used_memory > peak) {
    peak = m.used_memory;
    s->stats->used_memory_peak.store(peak, std::memory_order_relaxed);
  }
  int64_t maxmemory = LoadRelaxed(s->config->maxmemory);
  std::string policy;
  {
    std::lock_guard<std::mutex> lock(ConfigMutex());
    policy = s->config->maxmemory_policy;
  }
  w.Section("Memory");
  w.Int("used_memory", m.used_memory);
  w.Field("used_memory_human", BytesToHuman(m.used_memory));
  w.Int("used_memory_rss", m.rss);
  w.Field("used_memory_rss_human", BytesToHuman(m.rss));
  w.Int("used_memory_peak", peak);
  w.Field("used_memory_peak_human", BytesToHuman(peak));
  char perc[32];
  std::snprintf(perc, sizeof(perc), "%.2f%%", peak > 0 ? 100.0 * m.used_memory / peak : 0.0);
  w.Field("used_memory_peak_perc", perc);
  int64_t total = TotalSystemMemory();
  w.Int("total_system_memory", total);
  w.Field("total_system_memory_human", BytesToHuman(total));
  w.Int("maxmemory", maxmemory);
  w.Field("maxmemory_human", BytesToHuman(maxmemory));
  w.Field("maxmemory_policy", policy);
  w.Int("allocator_allocated", m.used_memory);
  w.Int("allocator_active", m.active);
  w.Int("allocator_resident", m.resident);
  w.Double("mem_fragmentation_ratio", m.used_memory > 0 ? double(m.rss) / m.used_memory : 0.0);
  w.Field("mem_allocator", m.allocator);
}

void PersistenceSection(ServerContext* s, Writer& w) {
  w.Section("Persistence");
  w.Int("loading", 0);
  w.Int("async_loading", 0);
  // ringkv has no RDB or AOF; the storage engine's own durability is shown.
  w.Int("rdb_bgsave_in_progress", 0);
  w.Int("aof_enabled", 0);
  w.Int("aof_rewrite_in_progress", 0);
  w.Field("storage_engine", s->config->storage.engine);
  w.Int("storage_wal_enabled", s->config->storage.use_wal ? 1 : 0);
  w.Int("storage_wal_fsync", s->config->storage.sync_wal ? 1 : 0);
}

void StatsSection(ServerContext* s, Writer& w) {
  ServerStats* st = s->stats;
  KeyspaceStats& ks = s->shards->stats();
  w.Section("Stats");
  w.Int("total_connections_received", static_cast<int64_t>(st->total_connections_received.load()));
  w.Int("total_commands_processed",
        static_cast<int64_t>(st->Sum([](LoopStats& l) -> RelaxedCounter& { return l.commands_processed; })));
  w.Int("instantaneous_ops_per_sec", st->instantaneous_ops_per_sec.load(std::memory_order_relaxed));
  w.Int("total_net_input_bytes",
        static_cast<int64_t>(st->Sum([](LoopStats& l) -> RelaxedCounter& { return l.net_input_bytes; })));
  w.Int("total_net_output_bytes",
        static_cast<int64_t>(st->Sum([](LoopStats& l) -> RelaxedCounter& { return l.net_output_bytes; })));
  w.Int("rejected_connections", static_cast<int64_t>(st->rejected_connections.load()));
  w.Int("expired_keys", static_cast<int64_t>(ks.expired_keys.load()));
  w.Double("expired_stale_perc", ks.expired_stale_perc.load());
  w.Int("expired_time_cap_reached_count", static_cast<int64_t>(ks.expired_time_cap_reached_count.load()));
  w.Int("expire_cycle_cpu_milliseconds", static_cast<int64_t>(ks.expire_cycle_time_used_us.load() / 1000));
  w.Int("evicted_keys", static_cast<int64_t>(ks.evicted_keys.load()));
  w.Int("keyspace_hits", static_cast<int64_t>(ks.keyspace_hits.load()));
  w.Int("keyspace_misses", static_cast<int64_t>(ks.keyspace_misses.load()));
  w.Int("pubsub_channels", 0);
  w.Int("pubsub_patterns", 0);
  w.Int("total_error_replies",
        static_cast<int64_t>(st->Sum([](LoopStats& l) -> RelaxedCounter& { return l.error_replies; })));
  w.Int("total_reads_processed",
        static_cast<int64_t>(st->Sum([](LoopStats& l) -> RelaxedCounter& { return l.reads_processed; })));
  w.Int("total_writes_processed",
        static_cast<int64_t>(st->Sum([](LoopStats& l) -> RelaxedCounter& { return l.writes_processed; })));
  int64_t pending_write_bytes = 0;
  for (size_t i = 0; i < st->loop_count(); ++i) {
    pending_write_bytes += st->loop(i)->pending_write_bytes.load(std::memory_order_relaxed);
  }
  w.Int("cluster_pending_write_bytes", pending_write_bytes);
  w.Int("cluster_write_gate_holds",
        static_cast<int64_t>(st->Sum([](LoopStats& l) -> RelaxedCounter& { return l.write_gate_holds; })));
}

void ReplicationSection(Writer& w) {
  w.Section("Replication");
  w.Field("role", "master");
  w.Int("connected_slaves", 0);
  w.Field("master_failover_state", "no-failover");
  w.Int("master_repl_offset", 0);
}

void CpuSection(Writer& w) {
  rusage self, children;
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  auto secs = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  w.Section("CPU");
  w.Double("used_cpu_sys", secs(self.ru_stime), 6);
  w.Double("used_cpu_user", secs(self.ru_utime), 6);
  w.Double("used_cpu_sys_children", secs(children.ru_stime), 6);
  w.Double("used_cpu_user_children", secs(children.ru_utime), 6);
}

void CommandStatsSection(ServerContext* s, Writer& w) {
  w.Section("Commandstats");
  const auto& all = s->commands->all();
  for (size_t i = 0; i < all.size(); ++i) {
    ServerStats::CommandTotals t = s->stats->Command(i);
    if (t.calls == 0 && t.rejected_calls == 0 && t.failed_calls == 0) continue;
    char buf[256];
    std::snprintf(buf, sizeof(buf),
                  "calls=%llu,usec=%llu,usec_per_call=%.2f,rejected_calls=%llu,failed_calls=%llu",
                  static_cast<unsigned long long>(t.calls), static_cast<unsigned long long>(t.usec),
                  t.calls > 0 ? double(t.usec) / double(t.calls) : 0.0,
                  static_cast<unsigned long long>(t.rejected_calls),
                  static_cast<unsigned long long>(t.failed_calls));
    w.Field("cmdstat_" + std::string(all[i].name), buf);
  }
}

void ClusterSection(ServerContext* s, Writer& w) {
  w.Section("Cluster");
  w.Int("cluster_enabled", s->cluster_view != nullptr ? 1 : 0);
  if (s->cluster_view == nullptr) return;
  for (const auto& [name, value] : s->cluster_view->Stats()) {
    w.Int(name, static_cast<int64_t>(value));
  }
  // The meta group (group 0): leader, replicated epoch, table size, this
  // node's role, and one line per node of the replicated table.
  for (const auto& [name, value] : s->cluster_view->MetaInfo()) w.Field(name, value);
}

void KeyspaceSection(ServerContext* s, Writer& w) {
  w.Section("Keyspace");
  uint64_t keys = s->shards->KeyCount();
  if (keys == 0) return;
  w.Field("db0", "keys=" + std::to_string(keys) +
                     ",expires=" + std::to_string(s->shards->ExpiresCount()) + ",avg_ttl=0");
}

void StorageSection(ServerContext* s, Writer& w) {
  storage::EngineStats e = s->shards->AggregateEngineStats();
  w.Section("Storage");
  w.Field("storage_engine", s->config->storage.engine);
  w.Int("storage_shards", s->shards->shard_count());
  w.Int("storage_keys", static_cast<int64_t>(e.keys));
  w.Int("storage_memory_bytes", static_cast<int64_t>(e.memory_bytes));
  w.Int("storage_disk_bytes", static_cast<int64_t>(e.disk_bytes));
  w.Int("storage_cache_hits", static_cast<int64_t>(e.cache_hits));
  w.Int("storage_cache_misses", static_cast<int64_t>(e.cache_misses));
  w.Int("storage_flushes", static_cast<int64_t>(e.flushes));
  w.Int("storage_compactions", static_cast<int64_t>(e.compactions));
  w.Int("storage_page_splits", static_cast<int64_t>(e.page_splits));
  w.Int("storage_user_bytes_written", static_cast<int64_t>(e.user_bytes_written));
  w.Int("storage_disk_bytes_written", static_cast<int64_t>(e.disk_bytes_written));
  if (e.user_bytes_written > 0) {
    w.Double("storage_write_amplification", double(e.disk_bytes_written) / e.user_bytes_written);
  }
  for (const auto& [k, v] : e.extra) w.Field("storage_" + k, v);
}

}  // namespace

std::string BytesToHuman(int64_t n) {
  char buf[64];
  double d = static_cast<double>(n);
  if (n < 1024) {
    std::snprintf(buf, sizeof(buf), "%lldB", static_cast<long long>(n));
  } else if (n < 1024ll * 1024) {
    std::snprintf(buf, sizeof(buf), "%.2fK", d / 1024);
  } else if (n < 1024ll * 1024 * 1024) {
    std::snprintf(buf, sizeof(buf), "%.2fM", d / (1024.0 * 1024));
  } else if (n < 1024ll * 1024 * 1024 * 1024) {
    std::snprintf(buf, sizeof(buf), "%.2fG", d / (1024.0 * 1024 * 1024));
  } else {
    std::snprintf(buf, sizeof(buf), "%.2fT", d / (1024.0 * 1024 * 1024 * 1024));
  }
  return buf;
}

std::string BuildInfo(ServerContext* server, std::span<const std::string_view> sections,
                      int64_t now_ms) {
  static const char* kDefault[] = {"server",      "clients", "memory",     "persistence",
                                   "stats",       "replication", "cpu",    "cluster",
                                   "keyspace",    "storage"};
  std::set<std::string> want;
  bool everything = false;
  if (sections.empty()) {
    for (const char* s : kDefault) want.insert(s);
  }
  for (std::string_view arg : sections) {
    std::string a;
    for (char c : arg) a.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (a == "default") {
      for (const char* s : kDefault) want.insert(s);
    } else if (a == "all" || a == "everything") {
      everything = true;
    } else {
      want.insert(a);
    }
  }
  auto on = [&](const char* name) { return everything || want.count(name) > 0; };
  std::string out;
  Writer w(&out);
  if (on("server")) ServerSection(server, w, now_ms);
  if (on("clients")) ClientsSection(server, w);
  if (on("memory")) MemorySection(server, w);
  if (on("persistence")) PersistenceSection(server, w);
  if (on("stats")) StatsSection(server, w);
  if (on("replication")) ReplicationSection(w);
  if (on("cpu")) CpuSection(w);
  if (on("commandstats")) CommandStatsSection(server, w);
  if (on("cluster")) ClusterSection(server, w);
  if (on("keyspace")) KeyspaceSection(server, w);
  if (on("storage")) StorageSection(server, w);
  return out;
}

}  // namespace ringkv::server
