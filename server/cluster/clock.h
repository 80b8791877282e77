// The two clocks cluster code reads: monotonic (deadlines, retries) and wall
// (the "now" a proposer stamps into a replicated command).
#pragma once

#include <time.h>

#include <cstdint>

namespace ringkv::server::cluster {

inline int64_t MonotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// The monotonic clock as of the last kernel tick (1-4 ms behind, never
// ahead): for deadlines seconds long that every forwarded or deferred command
// sets. It reads no time counter, where CLOCK_MONOTONIC took 5-6% of a node's
// CPU under pipelined GETs on this machine's virtual TSC. Never for leases,
// whose safety needs a reading that is not late.
inline int64_t CoarseMonotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

inline int64_t WallMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace ringkv::server::cluster
