// Process memory figures for INFO memory and maxmemory (jemalloc's stats when
// the binary uses jemalloc, glibc's mallinfo2 otherwise). Thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace ringkv::server {

struct MemoryInfo {
  int64_t used_memory = 0;      // bytes allocated by the program (jemalloc stats.allocated)
  int64_t active = 0;           // jemalloc stats.active
  int64_t resident = 0;         // jemalloc stats.resident
  int64_t rss = 0;              // /proc/self/statm resident pages * page size
  std::string allocator;        // "jemalloc-5.3.0" or "libc"
};

// Refreshes jemalloc's stats epoch and reads everything (a few microseconds).
MemoryInfo ReadMemoryInfo();
// Only the allocated bytes (what maxmemory compares against).
int64_t UsedMemory();

}  // namespace ringkv::server
