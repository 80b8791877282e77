// The WAL written through a shared mapping (Env::NewMappedAppendFile) and the
// log reader's torn-tail rules for it (log_reader.h):
//   - on POSIX, records round trip, the preallocated zero tail reads as the
//     end of the log while the file is open, and Close trims it;
//   - every state a kill inside a mapped append can leave (the checksum word
//     still zero, any part of the rest written, zeros after) is a torn tail;
//   - the same damage followed by a verifiable record is Corruption;
//   - a power loss that left a record's later sectors zero is a torn tail, a
//     zeroed run in the middle of a record is Corruption.
// Byte patterns are built by hand on MemEnv; the POSIX case uses a temp dir.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "storage/env/mem_env.h"
#include "storage/lsm/log_reader.h"
#include "storage/lsm/log_writer.h"
#include "tests/unit/storage/lsm/lsm_test_util.h"

namespace ringkv::storage::lsm {
namespace {

using testing::ValueOf;

// The records a test writes and the file bytes a LogWriter made of them.
struct LogImage {
  std::vector<std::string> records;
  std::vector<size_t> starts;  // file offset of each record
  std::string bytes;
};

LogImage MakeImage(int n, size_t value_len) {
  MemEnv env;
  REQUIRE(env.CreateDir("/l").ok());
  LogImage img;
  std::unique_ptr<WritableFile> f;
  REQUIRE(env.NewWritableFile("/l/1.log", &f).ok());
  LogWriter w(std::move(f));
  for (int i = 0; i < n; i++) {
    img.starts.push_back(static_cast<size_t>(w.size()));
    img.records.push_back(ValueOf(i, 7, value_len + i));
    REQUIRE(w.AddRecord(img.records.back(), false).ok());
  }
  REQUIRE(w.Close().ok());
  REQUIRE(ReadFileToString(&env, "/l/1.log", &img.bytes).ok());
  return img;
}

// Reads `bytes` as a log; returns the status and fills *got.
Status ReadBytes(const std::string& bytes, std::vector<std::string>* got, LogReadResult* res) {
  MemEnv env;
  RINGKV_CHECK(env.CreateDir("/r").ok());
  RINGKV_CHECK(WriteStringToFile(&env, bytes, "/r/x.log", false).ok());
  got->clear();
  return ReadLog(&env, "/r/x.log", [&](std::string_view r) {
    got->emplace_back(r);
    return Status::OK();
  }, res);
}

TEST_CASE("mapped log on POSIX: round trip, zero tail while open, trimmed on close", "[lsm][wal]") {
  char tmpl[] = "/tmp/ringkv-lsm-maplog-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string path = std::string(tmpl) + "/1.log";
  Env* env = Env::Default();
  std::unique_ptr<WritableFile> f;
  REQUIRE(env->NewMappedAppendFile(path, 64 << 10, &f).ok());
  LogWriter w(std::move(f));
  std::vector<std::string> records;
  // Crosses several 64 KiB growth steps, and one record larger than a step.
  for (int i = 0; i < 3000; i++) {
    records.push_back(ValueOf(i, 1, i == 1500 ? 200000 : 10 + i % 300));
    REQUIRE(w.AddRecord(records.back(), i % 500 == 0).ok());
  }
  uint64_t logical = w.size();
  uint64_t on_disk = 0;
  REQUIRE(env->GetFileSize(path, &on_disk).ok());
  REQUIRE(on_disk >= logical);
  REQUIRE(on_disk % (64 << 10) == 0);
  std::vector<std::string> got;
  LogReadResult res;
  // Read through read(2) while the writer still holds its mapping: what a
  // recovery after a kill sees.
  REQUIRE(ReadLog(env, path, [&](std::string_view r) {
    got.emplace_back(r);
    return Status::OK();
  }, &res).ok());
  REQUIRE(got == records);
  REQUIRE(res.torn_tail_bytes == on_disk - logical);
  REQUIRE(w.Close().ok());
  REQUIRE(env->GetFileSize(path, &on_disk).ok());
  REQUIRE(on_disk == logical);
  got.clear();
  res = LogReadResult();
  REQUIRE(ReadLog(env, path, [&](std::string_view r) {
    got.emplace_back(r);
    return Status::OK();
  }, &res).ok());
  REQUIRE(got == records);
  REQUIRE(res.torn_tail_bytes == 0);
  REQUIRE(std::system((std::string("rm -rf ") + tmpl).c_str()) == 0);
}

TEST_CASE("mapped log: every state of a killed append is a torn tail", "[lsm][wal]") {
  LogImage img = MakeImage(6, 60);
  const size_t last = img.starts.back();
  const size_t end = img.bytes.size();
  // A killed append wrote bytes [4, n) of the last record in some order (memcpy
  // may store back to front), never its first 4 bytes; zeros follow.
  for (size_t written_from = 4; written_from <= end - last; written_from++) {
    for (bool from_front : {true, false}) {
      std::string b = img.bytes + std::string(4096, '\0');
      std::fill(b.begin() + last, b.begin() + last + 4, '\0');
      if (from_front) {
        // Bytes [4, written_from) written, the rest not.
        std::fill(b.begin() + last + written_from, b.begin() + end, '\0');
      } else {
        // Bytes [written_from, n) written, [4, written_from) not.
        std::fill(b.begin() + last + 4, b.begin() + last + written_from, '\0');
      }
      std::vector<std::string> got;
      LogReadResult res;
      Status s = ReadBytes(b, &got, &res);
      INFO("written_from " << written_from << " front " << from_front << " " << s.ToString());
      REQUIRE(s.ok());
      REQUIRE(got.size() == img.records.size() - 1);
      for (size_t i = 0; i < got.size(); i++) REQUIRE(got[i] == img.records[i]);
      REQUIRE(res.torn_tail_bytes == b.size() - last);
    }
  }
}

TEST_CASE("mapped log: an unset checksum word before a valid record is corruption", "[lsm][wal]") {
  LogImage img = MakeImage(6, 60);
  for (size_t r = 0; r + 1 < img.records.size(); r++) {
    std::string b = img.bytes + std::string(1000, '\0');
    std::fill(b.begin() + img.starts[r], b.begin() + img.starts[r] + 4, '\0');
    std::vector<std::string> got;
    LogReadResult res;
    Status s = ReadBytes(b, &got, &res);
    INFO("record " << r << " " << s.ToString());
    REQUIRE(s.IsCorruption());
    REQUIRE(got.size() == r);
  }
}

TEST_CASE("log: a power loss that zeroed a record's last sectors is a torn tail", "[lsm][wal]") {
  LogImage img = MakeImage(4, 1500);  // records span several 512-byte sectors
  const size_t last = img.starts.back();
  const size_t end = img.bytes.size();
  size_t checked = 0;
  for (size_t sector = (last + 13 + 511) / 512 * 512; sector < end; sector += 512) {
    std::string b = img.bytes + std::string(3000, '\0');
    std::fill(b.begin() + sector, b.end(), '\0');
    std::vector<std::string> got;
    LogReadResult res;
    REQUIRE(ReadBytes(b, &got, &res).ok());
    REQUIRE(got.size() == img.records.size() - 1);
    checked++;
    // The same sector zeroed with written bytes after it is damage.
    if (sector + 512 < end) {
      std::string d = img.bytes;
      std::fill(d.begin() + sector, d.begin() + sector + 512, '\0');
      Status s = ReadBytes(d, &got, &res);
      INFO(s.ToString());
      REQUIRE(s.IsCorruption());
    }
  }
  REQUIRE(checked >= 2);
  // A zeroed sector inside an earlier record is damage even with zeros after the log.
  std::string d = img.bytes + std::string(3000, '\0');
  size_t sector = (img.starts[1] + 13 + 511) / 512 * 512;
  REQUIRE(sector + 512 < img.starts[2]);
  std::fill(d.begin() + sector, d.begin() + sector + 512, '\0');
  std::vector<std::string> got;
  LogReadResult res;
  REQUIRE(ReadBytes(d, &got, &res).IsCorruption());
}

}  // namespace
}  // namespace ringkv::storage::lsm
