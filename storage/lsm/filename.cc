#include "storage/lsm/filename.h"

#include <cstdio>

namespace ringkv::storage::lsm {
namespace {

std::string Numbered(const std::string& dir, uint64_t number, const char* suffix) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "/%06llu%s", static_cast<unsigned long long>(number), suffix);
  return dir + buf;
}

bool ParseNumber(std::string_view s, uint64_t* number) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *number = v;
  return true;
}

}  // namespace

std::string LogFileName(const std::string& dir, uint64_t number) {
  return Numbered(dir, number, ".log");
}
std::string TableFileName(const std::string& dir, uint64_t number) {
  return Numbered(dir, number, ".sst");
}
std::string ManifestFileName(const std::string& dir, uint64_t number) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "/MANIFEST-%06llu", static_cast<unsigned long long>(number));
  return dir + buf;
}
std::string CurrentFileName(const std::string& dir) { return dir + "/CURRENT"; }
std::string CurrentTempFileName(const std::string& dir) { return dir + "/CURRENT.tmp"; }

FileKind ParseFileName(std::string_view name, uint64_t* number) {
  if (name == "CURRENT") return FileKind::kCurrent;
  if (name == "CURRENT.tmp") return FileKind::kTemp;
  if (name.substr(0, 9) == "MANIFEST-") {
    return ParseNumber(name.substr(9), number) ? FileKind::kManifest : FileKind::kUnknown;
  }
  auto ends_with = [&](std::string_view suffix) {
    return name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  };
  if (ends_with(".log")) {
    return ParseNumber(name.substr(0, name.size() - 4), number) ? FileKind::kLog : FileKind::kUnknown;
  }
  if (ends_with(".sst")) {
    return ParseNumber(name.substr(0, name.size() - 4), number) ? FileKind::kTable
                                                                : FileKind::kUnknown;
  }
  return FileKind::kUnknown;
}

}  // namespace ringkv::storage::lsm
