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

inline int64_t WallMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace ringkv::server::cluster
