// Names the calling thread (top -H, perf, /proc/PID/task/TID/comm), so an operator
// can tell which of a node's threads burns the CPU. Linux keeps 15 characters.
#pragma once

#include <pthread.h>

namespace ringkv::server {

inline void NameThisThread(const char* name) { pthread_setname_np(pthread_self(), name); }

}  // namespace ringkv::server
