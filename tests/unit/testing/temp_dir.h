// A fresh directory under /tmp for tests on the real file system, removed with
// its contents when destroyed. One definition for every unit test (they each
// had their own copy).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace ringkv::testing {

class TempDir {
 public:
  explicit TempDir(const char* prefix = "ringkv-test") {
    std::string tmpl = std::string("/tmp/") + prefix + "-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace ringkv::testing
