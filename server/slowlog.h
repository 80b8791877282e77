// SlowLog: the last N commands that ran longer than slowlog-log-slower-than
// (SLOWLOG GET/LEN/RESET), and the latency monitor's "command" event
// (LATENCY LATEST). Thread-safe: one mutex, taken only for a slow command or
// an admin command, never on the fast path.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ringkv::server {

struct SlowLogEntry {
  uint64_t id;
  int64_t unix_time_s;
  int64_t duration_us;
  std::vector<std::string> args;  // at most 32, each cut to 128 bytes as Redis does
  std::string client_addr;
  std::string client_name;
};

struct LatencyEvent {
  std::string name;
  int64_t latest_unix_s = 0;
  int64_t latest_ms = 0;
  int64_t max_ms = 0;
};

class SlowLog {
 public:
  void Add(std::span<const std::string_view> args, int64_t unix_time_s, int64_t duration_us,
           std::string_view addr, std::string_view name, size_t max_len);
  std::vector<SlowLogEntry> Get(size_t count) const;  // newest first
  size_t Len() const;
  void Reset();

  // Latency monitor: records `ms` for event `name`.
  void AddLatency(std::string_view name, int64_t unix_time_s, int64_t ms);
  std::vector<LatencyEvent> Latest() const;
  void ResetLatency();

 private:
  mutable std::mutex mu_;
  std::deque<SlowLogEntry> entries_;  // newest at front
  uint64_t next_id_ = 0;
  std::vector<LatencyEvent> latency_;
};

}  // namespace ringkv::server
