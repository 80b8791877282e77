// BackgroundPool: the server's storage::BackgroundScheduler, N worker threads
// that run engine flushes and compactions off the loop threads.
//
// Queue bound: the queue is unbounded, deliberately. Schedule() must never
// block (the BackgroundScheduler contract: it is called from loop threads) and
// must never drop a task (an engine that scheduled a flush waits for it). The
// number of queued tasks is bounded by the engines themselves: each engine keeps
// at most a small fixed number of background jobs outstanding (lsm: one flush and
// one compaction in flight, and it stalls writers rather than scheduling more),
// so the queue holds at most a few tasks per shard. pending() exposes the depth
// for INFO.
//
// Shutdown (Shutdown() or the destructor): stops accepting new tasks and DRAINS,
// i.e. runs every task already queued, then joins the workers. Draining rather
// than discarding because an engine may be waiting on a scheduled flush; a task
// scheduled after shutdown began runs inline on the caller's thread for the same
// reason. Engines must therefore be closed only after, or while, the pool
// still runs their tasks: destroy the pool after the engines have been closed.
//
// Thread-safe: every method may be called from any thread. A task that throws
// terminates the process (no exceptions across module boundaries).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "storage/engine.h"

namespace ringkv::server {

class BackgroundPool final : public storage::BackgroundScheduler {
 public:
  // REQUIRES: threads >= 1.
  explicit BackgroundPool(size_t threads);
  ~BackgroundPool() override;
  BackgroundPool(const BackgroundPool&) = delete;
  BackgroundPool& operator=(const BackgroundPool&) = delete;

  void Schedule(std::function<void()> task) override;

  // Drains the queue and joins the workers. Idempotent. Must not be called
  // from inside a task (a worker cannot join itself).
  void Shutdown();

  // False once Shutdown has begun (later tasks then run inline).
  bool accepting() const;

  size_t threads() const { return thread_count_; }
  // Tasks queued and not yet started.
  size_t pending() const;
  // Tasks finished (by workers or inline after shutdown).
  uint64_t completed() const;

 private:
  void WorkerLoop();

  const size_t thread_count_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  uint64_t completed_ = 0;                   // guarded by mu_
  std::mutex join_mu_;                       // serializes Shutdown's join
  std::vector<std::thread> workers_;
};

}  // namespace ringkv::server
