// ProcessInfo: facts about the running process for INFO server, set once at
// start-up (before loops run) and then read-only, plus the shutdown hook.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace ringkv::server {

struct ProcessInfo {
  std::string run_id;        // 40 hex chars, random per start
  std::string executable;    // absolute path of the binary
  std::string config_file;   // absolute path, or empty
  int tcp_port = 0;          // the port actually bound
  int threads = 1;           // loop threads
  int64_t start_time_ms = 0;
  // Set by SHUTDOWN; the main loop polls it and stops every loop thread.
  std::atomic<bool> shutdown_requested{false};
  // Called by SHUTDOWN after setting the flag (wakes the main loop); may be null.
  void (*wake_main)(void*) = nullptr;
  void* wake_main_arg = nullptr;
};

}  // namespace ringkv::server
