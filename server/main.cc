// ringkv-server: wires config -> shards -> command table -> loop threads, and
// waits for SIGINT/SIGTERM or SHUTDOWN to stop them all cleanly (exit 0).
//
// Exit codes: 0 clean shutdown, 1 start-up failure (bind, storage), 2 bad
// configuration (unknown key, wrong type, out of range; the message names the key).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server/background_pool.h"
#include "server/cluster/cluster_node.h"
#include "server/commands/command.h"
#include "server/config/config.h"
#include "server/log.h"
#include "server/loop/loop_thread.h"
#include "server/net/client_registry.h"
#include "server/process_info.h"
#include "server/server_context.h"
#include "server/server_stats.h"
#include "server/shard/shard_set.h"
#include "server/slowlog.h"

using namespace ringkv;          // NOLINT
using namespace ringkv::server;  // NOLINT

namespace {

constexpr const char* kUsage =
    "Usage: ringkv-server [--config FILE] [--port N] [--bind ADDR] [--threads N] [--dir PATH]\n"
    "                     [--KEY VALUE ...]   any config key, nested keys dotted\n"
    "                                         (e.g. --storage.engine hash --maxmemory 1gb)\n"
    "See conf/ringkv.yaml for every key.\n";

std::string RandomHex(size_t n) {
  std::random_device rd;
  std::string s;
  const char* hex = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) s.push_back(hex[rd() % 16]);
  return s;
}

std::vector<std::string> SplitSpaces(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

struct MainLoop {
  uv_loop_t loop;
  uv_signal_t sigint, sigterm;
  uv_async_t shutdown_async;
  std::vector<std::unique_ptr<LoopThread>>* loops = nullptr;
  bool stopping = false;

  void Stop(const char* why) {
    if (stopping) return;
    stopping = true;
    Log(LogLevel::kWarning, "%s, shutting down...", why);
    for (auto& l : *loops) l->RequestStop();
    uv_close(reinterpret_cast<uv_handle_t*>(&sigint), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&sigterm), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&shutdown_async), nullptr);
  }
};

void OnSignal(uv_signal_t* s, int signum) {
  auto* m = static_cast<MainLoop*>(s->data);
  m->Stop(signum == SIGINT ? "Received SIGINT scheduling shutdown"
                           : "Received SIGTERM scheduling shutdown");
}

void OnShutdownAsync(uv_async_t* a) {
  static_cast<MainLoop*>(a->data)->Stop("User requested shutdown");
}

void WakeMain(void* arg) { uv_async_send(static_cast<uv_async_t*>(arg)); }

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "--version" || a == "-v") {
      std::puts("ringkv-server v=0.1.0 (Redis 7.0 protocol)");
      return 0;
    }
  }
  signal(SIGPIPE, SIG_IGN);

  Config config;
  Status s = ParseCommandLine(argc, argv, &config);
  if (!s.ok()) {
    std::fprintf(stderr, "ringkv-server: %s\n%s", s.message().c_str(), kUsage);
    return 2;
  }
  if (!InitLog(config.logfile, config.loglevel)) {
    std::fprintf(stderr, "ringkv-server: cannot open logfile '%s'\n", config.logfile.c_str());
    return 2;
  }
  // A cluster node with a shared loop serves its clients on the replication
  // thread: a second loop thread would hand every write across threads again
  // (measured: 25% more CPU per replicated SET, see docs/design-notes.md).
  const uint32_t auto_threads = config.cluster.enabled && config.cluster.shared_loop
                                    ? 1u
                                    : std::max(1u, std::thread::hardware_concurrency());
  uint32_t threads = config.threads > 0 ? static_cast<uint32_t>(config.threads) : auto_threads;

  std::error_code ec;
  std::filesystem::create_directories(config.dir, ec);
  if (ec) {
    Log(LogLevel::kWarning, "Cannot create dir '%s': %s", config.dir.c_str(), ec.message().c_str());
    return 1;
  }

  // Cluster mode: replicas change their data only through the Raft log, and
  // the Raft log is the engines' write-ahead log (DESIGN.md §5).
  if (config.cluster.enabled) {
    Keyspace::SetReplicated(true);
    config.storage.use_wal = false;
  }
  ShardSet::Options so;
  so.shard_count = static_cast<uint32_t>(config.shards);
  so.engine.kind = config.storage.engine == "lsm"     ? storage::EngineKind::kLsm
                   : config.storage.engine == "btree" ? storage::EngineKind::kBtree
                                                      : storage::EngineKind::kHash;
  so.engine.dir = config.dir;
  so.engine.use_wal = config.storage.use_wal;
  so.engine.sync_wal = config.storage.sync_wal;
  // Budgets in the config are totals for the node; each shard's engine gets
  // its share (a floor keeps tiny shares usable).
  const size_t shard_count = static_cast<size_t>(config.shards);
  so.engine.write_buffer_bytes = static_cast<size_t>(config.storage.write_buffer_size);
  so.engine.block_cache_bytes =
      std::max<size_t>(static_cast<size_t>(config.storage.block_cache_size) / shard_count, 256 << 10);
  so.engine.cache_bytes =
      config.storage.cache_mb > 0
          ? std::max<size_t>((static_cast<size_t>(config.storage.cache_mb) << 20) / shard_count, 64 << 10)
          : 0;
  // Flushes and compactions run here, off the loop threads. Declared before
  // the shards so it is destroyed after them (engines may wait on its tasks).
  BackgroundPool background(static_cast<size_t>(config.storage.background_threads));
  so.engine.scheduler = &background;
  auto opened = ShardSet::Open(so);
  if (!opened.ok()) {
    Log(LogLevel::kWarning, "Cannot open storage (%s engine): %s", config.storage.engine.c_str(),
        opened.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<ShardSet> shards = std::move(opened.value());

  CommandTable table;
  RegisterAllFamilies(&table);
  ServerStats stats(threads, table.all().size());
  ClientRegistry registry;
  SlowLog slowlog;
  ProcessInfo process;
  process.run_id = RandomHex(40);
  process.executable = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string_view(argv[i]) == "--config") {
      process.config_file = std::filesystem::absolute(argv[i + 1], ec).string();
    }
  }
  process.threads = static_cast<int>(threads);
  {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    process.start_time_ms = static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
  }
  stats.start_time_ms = process.start_time_ms;

  ServerContext ctx;
  ctx.config = &config;
  ctx.mutable_config = &config;
  ctx.shards = shards.get();
  ctx.commands = &table;
  ctx.stats = &stats;
  ctx.clients = &registry;
  ctx.slowlog = &slowlog;
  ctx.process = &process;

  std::unique_ptr<cluster::ClusterNode> cluster_node;
  if (config.cluster.enabled) {
    auto created = cluster::ClusterNode::Create(&ctx, config);
    if (!created.ok()) {
      Log(LogLevel::kWarning, "Bad cluster configuration: %s", created.status().ToString().c_str());
      return 2;
    }
    cluster_node = std::move(created).value();
    Status cs = cluster_node->Start();
    if (!cs.ok()) {
      Log(LogLevel::kWarning, "Cannot start cluster node: %s", cs.ToString().c_str());
      return 1;
    }
    ctx.router = cluster_node->router();
    ctx.cluster_view = cluster_node.get();
  }

  // Bind every (address, thread) pair before any loop runs, so a bind error
  // stops start-up and port 0 resolves to one port for all threads.
  std::vector<std::unique_ptr<LoopThread>> loops;
  for (uint32_t i = 0; i < threads; ++i) loops.push_back(std::make_unique<LoopThread>(&ctx, i, threads));
  int port = static_cast<int>(config.port);
  for (const std::string& addr : SplitSpaces(config.bind)) {
    for (uint32_t i = 0; i < threads; ++i) {
      int bound = 0;
      Result<int> fd = BindListener(addr, port, static_cast<int>(config.tcp_backlog), &bound);
      if (!fd.ok()) {
        Log(LogLevel::kWarning, "%s", fd.status().message().c_str());
        return 1;
      }
      port = bound;
      loops[i]->AddListenFd(*fd);
    }
  }
  process.tcp_port = port;
  StoreRelaxed(config.port, static_cast<int64_t>(port));

  MainLoop main_loop;
  uv_loop_init(&main_loop.loop);
  main_loop.loops = &loops;
  uv_signal_init(&main_loop.loop, &main_loop.sigint);
  uv_signal_init(&main_loop.loop, &main_loop.sigterm);
  main_loop.sigint.data = main_loop.sigterm.data = &main_loop;
  uv_signal_start(&main_loop.sigint, OnSignal, SIGINT);
  uv_signal_start(&main_loop.sigterm, OnSignal, SIGTERM);
  uv_async_init(&main_loop.loop, &main_loop.shutdown_async, OnShutdownAsync);
  main_loop.shutdown_async.data = &main_loop;
  process.wake_main = WakeMain;
  process.wake_main_arg = &main_loop.shutdown_async;

  for (size_t i = 0; i < loops.size(); ++i) {
    LoopThread* l = loops[i].get();
    Status st;
    if (i == 0 && cluster_node != nullptr && config.cluster.shared_loop) {
      cluster::ClusterNode* node = cluster_node.get();
      st = l->StartOn(LoopThread::ExternalLoop{
          node->replication_loop(),
          [node](std::function<void()> fn) { return node->PostToReplication(std::move(fn)); }});
    } else {
      st = l->Start();
    }
    if (!st.ok()) {
      Log(LogLevel::kWarning, "Cannot start loop: %s", st.message().c_str());
      return 1;
    }
  }
  if (!config.pidfile.empty()) {
    std::ofstream(config.pidfile) << getpid() << "\n";
  }
  Log(LogLevel::kNotice, "ringkv-server 0.1.0 pid=%d threads=%u shards=%lld engine=%s",
      static_cast<int>(getpid()), threads, static_cast<long long>(config.shards),
      config.storage.engine.c_str());
  Log(LogLevel::kNotice, "Ready to accept connections tcp on %s port %d", config.bind.c_str(), port);

  uv_run(&main_loop.loop, UV_RUN_DEFAULT);
  for (auto& l : loops) l->Join();
  uv_loop_close(&main_loop.loop);
  // After the loops stopped taking commands, before they are destroyed (requests
  // still in flight complete into their closed Post queues) and before the
  // shards (it applies to them).
  cluster_node.reset();
  loops.clear();
  // Engines persist what they own in their destructors (ShardSet closes them).
  shards.reset();
  if (!config.pidfile.empty()) unlink(config.pidfile.c_str());
  Log(LogLevel::kWarning, "ringkv is now ready to exit, bye bye...");
  return 0;
}
