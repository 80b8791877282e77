#include "server/memory_info.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdio>

#ifdef RINGKV_HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// The sanitizers replace malloc, and their allocator reports nothing through
// mallinfo2; ask it directly (declared here: Debian's gcc ships the runtime
// without the sanitizer headers).
extern "C" size_t __sanitizer_get_current_allocated_bytes();
#define RINGKV_SANITIZER_ALLOCATOR 1
#endif

namespace ringkv::server {

namespace {

int64_t ReadRss() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long size = 0, resident = 0;
  int n = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return static_cast<int64_t>(resident) * sysconf(_SC_PAGESIZE);
}

#ifdef RINGKV_HAVE_JEMALLOC
int64_t JeStat(const char* name) {
  size_t v = 0;
  size_t len = sizeof(v);
  if (mallctl(name, &v, &len, nullptr, 0) != 0) return 0;
  return static_cast<int64_t>(v);
}
void JeRefresh() {
  uint64_t epoch = 1;
  size_t len = sizeof(epoch);
  mallctl("epoch", &epoch, &len, &epoch, len);
}
#endif

}  // namespace

int64_t UsedMemory() {
#ifdef RINGKV_HAVE_JEMALLOC
  JeRefresh();
  return JeStat("stats.allocated");
#elif defined(RINGKV_SANITIZER_ALLOCATOR)
  return static_cast<int64_t>(__sanitizer_get_current_allocated_bytes());
#else
  struct mallinfo2 mi = mallinfo2();
  return static_cast<int64_t>(mi.uordblks + mi.hblkhd);
#endif
}

MemoryInfo ReadMemoryInfo() {
  MemoryInfo m;
#ifdef RINGKV_HAVE_JEMALLOC
  JeRefresh();
  m.used_memory = JeStat("stats.allocated");
  m.active = JeStat("stats.active");
  m.resident = JeStat("stats.resident");
  const char* version = nullptr;
  size_t len = sizeof(version);
  if (mallctl("version", &version, &len, nullptr, 0) == 0 && version != nullptr) {
    std::string v(version);
    size_t dash = v.find('-');
    m.allocator = "jemalloc-" + v.substr(0, dash);
  } else {
    m.allocator = "jemalloc";
  }
#elif defined(RINGKV_SANITIZER_ALLOCATOR)
  m.used_memory = static_cast<int64_t>(__sanitizer_get_current_allocated_bytes());
  m.active = m.used_memory;
  m.resident = 0;
  m.allocator = "sanitizer";
#else
  struct mallinfo2 mi = mallinfo2();
  m.used_memory = static_cast<int64_t>(mi.uordblks + mi.hblkhd);
  m.active = m.used_memory;
  m.resident = 0;
  m.allocator = "libc";
#endif
  m.rss = ReadRss();
  return m;
}

}  // namespace ringkv::server
