#include "server/log.h"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <ctime>

namespace ringkv::server {

namespace {
std::atomic<int> g_fd{2};
std::atomic<int> g_min_level{static_cast<int>(LogLevel::kNotice)};
}  // namespace

bool InitLog(const std::string& path, const std::string& level) {
  if (level == "debug") g_min_level = 0;
  else if (level == "verbose") g_min_level = 1;
  else if (level == "notice") g_min_level = 2;
  else if (level == "warning") g_min_level = 3;
  if (path.empty()) return true;
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  g_fd = fd;
  return true;
}

void Log(LogLevel level, const char* fmt, ...) {
  if (static_cast<int>(level) < g_min_level.load(std::memory_order_relaxed)) return;
  char line[1024];
  timeval tv;
  gettimeofday(&tv, nullptr);
  tm t;
  localtime_r(&tv.tv_sec, &t);
  static const char kMarks[] = {'.', '-', '*', '#'};
  int n = std::snprintf(line, sizeof(line), "%d:M ", static_cast<int>(getpid()));
  n += static_cast<int>(std::strftime(line + n, sizeof(line) - static_cast<size_t>(n), "%d %b %Y %H:%M:%S", &t));
  n += std::snprintf(line + n, sizeof(line) - static_cast<size_t>(n), ".%03d %c ",
                     static_cast<int>(tv.tv_usec / 1000), kMarks[static_cast<int>(level)]);
  va_list ap;
  va_start(ap, fmt);
  int m = std::vsnprintf(line + n, sizeof(line) - static_cast<size_t>(n) - 1, fmt, ap);
  va_end(ap);
  if (m < 0) m = 0;
  size_t len = static_cast<size_t>(n) + static_cast<size_t>(m);
  if (len > sizeof(line) - 2) len = sizeof(line) - 2;
  line[len++] = '\n';
  ssize_t w = write(g_fd.load(), line, len);
  (void)w;
}

}  // namespace ringkv::server
