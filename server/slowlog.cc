// SlowLog: Redis's slowlog.c entry shaping (argument count and length caps).
#include "server/slowlog.h"

namespace ringkv::server {

namespace {
constexpr size_t kMaxArgc = 32;      // SLOWLOG_ENTRY_MAX_ARGC
constexpr size_t kMaxArgLen = 128;   // SLOWLOG_ENTRY_MAX_STRING
}  // namespace

void SlowLog::Add(std::span<const std::string_view> args, int64_t unix_time_s,
                  int64_t duration_us, std::string_view addr, std::string_view name,
                  size_t max_len) {
  SlowLogEntry e;
  size_t argc = args.size() > kMaxArgc ? kMaxArgc : args.size();
  for (size_t i = 0; i < argc; ++i) {
    if (argc != args.size() && i == argc - 1) {
      e.args.push_back("... (" + std::to_string(args.size() - argc + 1) + " more arguments)");
    } else if (args[i].size() > kMaxArgLen) {
      e.args.push_back(std::string(args[i].substr(0, kMaxArgLen)) + "... (" +
                       std::to_string(args[i].size() - kMaxArgLen) + " more bytes)");
    } else {
      e.args.emplace_back(args[i]);
    }
  }
  e.unix_time_s = unix_time_s;
  e.duration_us = duration_us;
  e.client_addr = std::string(addr);
  e.client_name = std::string(name);
  std::lock_guard<std::mutex> lock(mu_);
  e.id = next_id_++;
  entries_.push_front(std::move(e));
  while (entries_.size() > max_len) entries_.pop_back();
}

std::vector<SlowLogEntry> SlowLog::Get(size_t count) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<SlowLogEntry> out;
  for (size_t i = 0; i < entries_.size() && i < count; ++i) out.push_back(entries_[i]);
  return out;
}

size_t SlowLog::Len() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

void SlowLog::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.clear();
}

void SlowLog::AddLatency(std::string_view name, int64_t unix_time_s, int64_t ms) {
  std::lock_guard<std::mutex> lock(mu_);
  for (LatencyEvent& e : latency_) {
    if (e.name == name) {
      e.latest_unix_s = unix_time_s;
      e.latest_ms = ms;
      if (ms > e.max_ms) e.max_ms = ms;
      return;
    }
  }
  latency_.push_back(LatencyEvent{std::string(name), unix_time_s, ms, ms});
}

std::vector<LatencyEvent> SlowLog::Latest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return latency_;
}

void SlowLog::ResetLatency() {
  std::lock_guard<std::mutex> lock(mu_);
  latency_.clear();
}

}  // namespace ringkv::server
