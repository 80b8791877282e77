// Server log lines in Redis's format ("<pid>:M 28 Nov 2026 12:00:00.123 * text")
// to stderr or the configured logfile. Thread-safe (one write per line).
#pragma once

#include <string>

namespace ringkv::server {

enum class LogLevel { kDebug = 0, kVerbose = 1, kNotice = 2, kWarning = 3 };

// Opens `path` for appending (empty = stderr) and sets the minimum level
// ("debug", "verbose", "notice", "warning"). Returns false if the file cannot be opened.
bool InitLog(const std::string& path, const std::string& level);

void Log(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace ringkv::server
