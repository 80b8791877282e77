// LoopThread: one libuv event loop on its own thread. It accepts on its own
// SO_REUSEPORT listening sockets, owns every connection it accepted, flushes
// replies once per iteration (uv_prepare), and runs a timer at `hz` for
// active expiry, idle timeouts and housekeeping.
//
// Threading: everything but Wake()/RequestStop() runs on the loop thread.
// Owned by main(); Join() before destroying it.
#pragma once

#include <uv.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "server/client_state.h"
#include "storage/base/status.h"

namespace ringkv::server {

struct ServerContext;
struct LoopStats;
class Connection;

class LoopThread : public LoopWaker {
 public:
  LoopThread(ServerContext* server, uint32_t index, uint32_t threads);
  ~LoopThread();

  // Adopts bound, listening sockets (takes ownership). Call before Start.
  void AddListenFd(int fd) { listen_fds_.push_back(fd); }
  Status Start();
  // Instead of a thread of its own, runs this loop's handles on another
  // thread's libuv loop: `post` runs a task on that thread (false if it is not
  // running). Used in cluster mode so that loop thread 0 and the replication
  // engine share one thread (`cluster.shared-loop`): a write's hand-offs to
  // Raft and back are then function calls, not cross-thread wakeups. Join
  // returns once the loop began stopping; the rest of its closing runs on the
  // sharing thread, so this object must outlive that thread's loop.
  struct ExternalLoop {
    uv_loop_t* loop = nullptr;
    std::function<bool(std::function<void()>)> post;
  };
  Status StartOn(ExternalLoop external);
  // Thread-safe: stop accepting, flush what can be flushed, close everything,
  // then let the thread end.
  void RequestStop();
  void Join();
  // Thread-safe: run the async pass (CLIENT KILL requests, stop).
  void Wake() override;
  // Thread-safe: runs `task` on this loop's thread soon (replies of commands
  // that completed on the replication thread come back this way). Tasks
  // posted after the loop began stopping are dropped, never run.
  void Post(std::function<void()> task);
  // Loop thread only: runs `task` on this loop after `delay_ms` (a one-shot
  // timer); dropped, never run, if the loop stops first.
  void RunAfter(uint64_t delay_ms, std::function<void()> task);
  // The loop whose callbacks the calling thread is running, else nullptr.
  static LoopThread* Current();

  // Loop-thread API for connections.
  ServerContext* server() { return server_; }
  LoopStats* stats() { return stats_; }
  uint32_t index() const { return index_; }
  uv_loop_t* loop() { return loop_; }
  void AddToFlushList(Connection* c);
  void Forget(Connection* c);  // on close: drop from the lists
  // Wall-clock ms cached per loop pass (refreshed on each read callback).
  int64_t RefreshNow();
  int64_t now_ms() const { return now_ms_; }
  // Bytes of this loop's clients' writes deferred to Raft or another node
  // and not yet answered (Connection adds and removes them). Past the
  // configured bound a connection that already waits for a reply dispatches
  // no further write until its replies arrive: see Connection's header.
  void AddPendingWriteBytes(int64_t delta);
  bool PendingWritesOverBound() const;

 private:
  static void OnConnection(uv_stream_t* server, int status);
  static void OnPrepare(uv_prepare_t* p);
  static void OnIdle(uv_idle_t* i);
  static void OnTimer(uv_timer_t* t);
  static void OnAsync(uv_async_t* a);
  Status InitHandles();
  void Run();
  void Cron();
  void BeginStop();

  ServerContext* server_;
  uint32_t index_;
  uint32_t threads_;
  LoopStats* stats_;
  uv_loop_t own_loop_;
  uv_loop_t* loop_ = &own_loop_;  // another thread's loop after StartOn
  std::condition_variable stopped_cv_;  // external: BeginStop ran (post_closed_)
  uv_prepare_t prepare_;
  // Active only while a flush pass left work queued (a connection resumed
  // parked input): keeps the next poll from blocking.
  uv_idle_t idle_;
  bool idle_active_ = false;
  uv_timer_t timer_;
  uv_async_t async_;
  std::vector<int> listen_fds_;
  std::vector<uv_tcp_t*> listeners_;
  std::unordered_set<Connection*> conns_;
  std::vector<Connection*> flush_list_;
  std::vector<Connection*> flushing_;
  std::thread thread_;
  std::atomic<bool> stop_requested_{false};
  std::mutex post_mu_;
  std::vector<std::function<void()>> posted_;  // guarded by post_mu_
  bool post_closed_ = false;                   // guarded by post_mu_
  // Posted from this loop's own thread: run in the next prepare phase.
  std::vector<std::function<void()>> local_posted_;
  bool stopping_ = false;
  struct DelayedTask;
  std::unordered_set<DelayedTask*> delayed_;  // RunAfter's pending timers
  static void CloseDelayed(DelayedTask* d);
  int64_t now_ms_ = 0;
  int64_t last_timeout_check_ms_ = 0;
  int64_t last_ops_sample_ms_ = 0;
  uint64_t last_ops_count_ = 0;
  int64_t current_hz_ = 0;
};

// Creates a TCP socket bound to addr:port with SO_REUSEADDR + SO_REUSEPORT and
// listening (backlog). port 0 picks a free port; *bound_port reports it.
Result<int> BindListener(const std::string& addr, int port, int backlog, int* bound_port);

}  // namespace ringkv::server
