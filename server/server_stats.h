// ServerStats: the process-wide counters behind INFO stats / commandstats.
//
// Hot counters live in one LoopStats per loop thread and are written only by
// that thread (a relaxed load + store, no locked instruction), read by INFO
// from any thread (relaxed loads; a reader may see a count one command old).
// Connection-level counters are plain atomics. Owned by the server; outlives
// the loops.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace ringkv::server {

// A counter with a single writer thread and any number of readers.
class RelaxedCounter {
 public:
  void Add(uint64_t n) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  uint64_t Get() const { return v_.load(std::memory_order_relaxed); }
  void Reset() { v_.store(0, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

struct CommandCounters {
  RelaxedCounter calls;
  RelaxedCounter usec;
  RelaxedCounter rejected_calls;  // refused before running (arity, auth, OOM)
  RelaxedCounter failed_calls;    // ran and replied an error
};

// Counters of one loop thread. Index of `commands` = index of the spec in
// CommandTable::all().
struct LoopStats {
  explicit LoopStats(size_t command_count) : commands(command_count) {}
  std::vector<CommandCounters> commands;
  RelaxedCounter commands_processed;
  RelaxedCounter net_input_bytes;
  RelaxedCounter net_output_bytes;
  RelaxedCounter error_replies;
  RelaxedCounter reads_processed;   // read callbacks that delivered bytes
  RelaxedCounter writes_processed;  // write syscalls issued
  // Times a connection held a write back at cluster.max-pending-write-bytes.
  RelaxedCounter write_gate_holds;
  // Bytes of deferred writes awaiting their replies (LoopThread::AddPendingWriteBytes;
  // written by the loop thread only, read by INFO).
  std::atomic<int64_t> pending_write_bytes{0};
  // Error replies by prefix ("ERR", "WRONGTYPE" ...) are not broken down.
};

class ServerStats {
 public:
  ServerStats(size_t loops, size_t command_count) {
    for (size_t i = 0; i < loops; ++i) loops_.push_back(std::make_unique<LoopStats>(command_count));
  }
  LoopStats* loop(size_t i) { return loops_[i].get(); }
  size_t loop_count() const { return loops_.size(); }

  // Sum of one command's counters over every loop.
  struct CommandTotals {
    uint64_t calls = 0, usec = 0, rejected_calls = 0, failed_calls = 0;
  };
  CommandTotals Command(size_t index) const {
    CommandTotals t;
    for (const auto& l : loops_) {
      const CommandCounters& c = l->commands[index];
      t.calls += c.calls.Get();
      t.usec += c.usec.Get();
      t.rejected_calls += c.rejected_calls.Get();
      t.failed_calls += c.failed_calls.Get();
    }
    return t;
  }
  template <typename F>
  uint64_t Sum(F field) const {
    uint64_t s = 0;
    for (const auto& l : loops_) s += field(*l).Get();
    return s;
  }

  // CONFIG RESETSTAT. Races benignly with writers (a count may survive).
  void Reset() {
    for (auto& l : loops_) {
      for (auto& c : l->commands) {
        c.calls.Reset();
        c.usec.Reset();
        c.rejected_calls.Reset();
        c.failed_calls.Reset();
      }
      l->commands_processed.Reset();
      l->net_input_bytes.Reset();
      l->net_output_bytes.Reset();
      l->error_replies.Reset();
    }
    total_connections_received.store(0);
    rejected_connections.store(0);
  }

  std::atomic<uint64_t> total_connections_received{0};
  std::atomic<uint64_t> rejected_connections{0};
  std::atomic<int64_t> start_time_ms{0};
  std::atomic<int64_t> used_memory_cached{0};
  std::atomic<int64_t> used_memory_peak{0};
  // Commands per second over the last second, sampled by loop 0's timer.
  std::atomic<int64_t> instantaneous_ops_per_sec{0};

 private:
  std::vector<std::unique_ptr<LoopStats>> loops_;
};

}  // namespace ringkv::server
