// The same file-system contract checked on PosixEnv (a temp dir) and MemEnv,
// then MemEnv's power-loss model and FaultInjectionEnv's injected failures.
#include <catch2/catch.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "storage/env/env.h"
#include "storage/env/fault_injection_env.h"
#include "storage/env/mem_env.h"
#include "tests/unit/testing/temp_dir.h"

using namespace ringkv;
using namespace ringkv::storage;

namespace {

using ringkv::testing::TempDir;

void CheckContract(Env* env, const std::string& dir) {
  REQUIRE(env->CreateDir(dir + "/a/b").ok());
  const std::string f = dir + "/a/b/file";

  // Append, sync, size, read back sequentially and at offsets.
  std::unique_ptr<WritableFile> w;
  REQUIRE(env->NewWritableFile(f, &w).ok());
  REQUIRE(w->Append("hello ").ok());
  REQUIRE(w->Append(std::string(100000, 'x')).ok());
  REQUIRE(w->Sync().ok());
  REQUIRE(w->Size() == 100006);
  REQUIRE(w->Close().ok());
  uint64_t size = 0;
  REQUIRE(env->GetFileSize(f, &size).ok());
  REQUIRE(size == 100006);

  std::string all;
  REQUIRE(ReadFileToString(env, f, &all).ok());
  REQUIRE(all.substr(0, 6) == "hello ");
  REQUIRE(all.size() == 100006);

  std::unique_ptr<RandomAccessFile> r;
  REQUIRE(env->NewRandomAccessFile(f, &r).ok());
  char scratch[16];
  std::string_view got;
  REQUIRE(r->Read(0, 5, scratch, &got).ok());
  REQUIRE(got == "hello");
  REQUIRE(r->Read(100000, 16, scratch, &got).ok());
  REQUIRE(got.size() == 6);  // short read at end of file

  // Appendable keeps existing bytes.
  REQUIRE(env->NewAppendableFile(f, &w).ok());
  REQUIRE(w->Size() == 100006);
  REQUIRE(w->Append("!").ok());
  REQUIRE(w->Close().ok());
  REQUIRE(env->GetFileSize(f, &size).ok());
  REQUIRE(size == 100007);

  // Random read-write file.
  std::unique_ptr<RandomRWFile> rw;
  REQUIRE(env->NewRandomRWFile(dir + "/a/pages", &rw).ok());
  REQUIRE(rw->Write(4096, "page1").ok());
  REQUIRE(rw->Write(0, "page0").ok());
  REQUIRE(rw->Sync().ok());
  REQUIRE(rw->Read(4096, 5, scratch, &got).ok());
  REQUIRE(got == "page1");
  REQUIRE(rw->Read(0, 5, scratch, &got).ok());
  REQUIRE(got == "page0");
  REQUIRE(rw->Close().ok());

  // Directory listing, rename, truncate, remove.
  std::vector<std::string> names;
  REQUIRE(env->GetChildren(dir + "/a/b", &names).ok());
  REQUIRE(names == std::vector<std::string>{"file"});
  REQUIRE(env->RenameFile(f, dir + "/a/b/renamed").ok());
  REQUIRE_FALSE(env->FileExists(f));
  REQUIRE(env->FileExists(dir + "/a/b/renamed"));
  REQUIRE(env->TruncateFile(dir + "/a/b/renamed", 3).ok());
  REQUIRE(ReadFileToString(env, dir + "/a/b/renamed", &all).ok());
  REQUIRE(all == "hel");
  REQUIRE(env->SyncDir(dir + "/a/b").ok());
  REQUIRE(env->RemoveFile(dir + "/a/b/renamed").ok());
  REQUIRE(env->RemoveFile(dir + "/a/b/renamed").IsNotFound());
  std::unique_ptr<SequentialFile> s;
  REQUIRE(env->NewSequentialFile(dir + "/missing", &s).IsNotFound());
}

}  // namespace

TEST_CASE("PosixEnv honours the Env contract", "[storage][env]") {
  TempDir tmp;
  CheckContract(Env::Default(), tmp.path());
}

TEST_CASE("PosixEnv preallocated file: zeros ahead of the data, trimmed at Close", "[storage][env]") {
  TempDir tmp;
  Env* env = Env::Default();
  const std::string f = tmp.path() + "/seg";
  const size_t grow = 64 << 10;
  std::unique_ptr<WritableFile> w;
  REQUIRE(env->NewPreallocatedWritableFile(f, grow, &w).ok());
  std::string data;
  for (int i = 0; i < 300; i++) {
    std::string rec = std::to_string(i) + ":" + std::string(static_cast<size_t>(i % 700) + 1, 'a' + i % 26);
    REQUIRE(w->Append(rec).ok());
    data += rec;
    if (i % 7 == 0) REQUIRE(w->Sync().ok());
  }
  REQUIRE(w->Sync().ok());
  REQUIRE(w->Size() == data.size());
  // While open (and after a crash): the data, then zeros, at most one grow step
  // of them. This is what a reader sees of a log that was never closed.
  uint64_t length = 0;
  REQUIRE(env->GetFileSize(f, &length).ok());
  REQUIRE(length > data.size());
  REQUIRE(length % 4096 == 0);
  REQUIRE(length - data.size() <= grow);
  std::string all;
  REQUIRE(ReadFileToString(env, f, &all).ok());
  REQUIRE(all.substr(0, data.size()) == data);
  REQUIRE(all.find_first_not_of('\0', data.size()) == std::string::npos);
  // Close trims the zeros.
  REQUIRE(w->Close().ok());
  REQUIRE(env->GetFileSize(f, &length).ok());
  REQUIRE(length == data.size());
  REQUIRE(ReadFileToString(env, f, &all).ok());
  REQUIRE(all == data);
}

TEST_CASE("MemEnv honours the Env contract", "[storage][env]") {
  MemEnv env;
  CheckContract(&env, "/db");
}

TEST_CASE("MemEnv crash keeps synced bytes and durable entries only", "[storage][env]") {
  MemEnv env;
  REQUIRE(env.CreateDir("/db").ok());
  std::unique_ptr<WritableFile> w;
  REQUIRE(env.NewWritableFile("/db/log", &w).ok());
  REQUIRE(w->Append("synced").ok());
  REQUIRE(w->Sync().ok());
  REQUIRE(env.SyncDir("/db").ok());
  REQUIRE(w->Append("-lost").ok());

  std::unique_ptr<WritableFile> w2;
  REQUIRE(env.NewWritableFile("/db/new", &w2).ok());
  REQUIRE(w2->Append("x").ok());
  REQUIRE(w2->Sync().ok());  // synced data, but its directory entry never was

  REQUIRE(env.sync_count() == 2);
  env.CrashLoseUnsynced();
  std::string data;
  REQUIRE(ReadFileToString(&env, "/db/log", &data).ok());
  REQUIRE(data == "synced");
  REQUIRE_FALSE(env.FileExists("/db/new"));
}

TEST_CASE("MemEnv torn crash keeps a prefix of the unsynced tail", "[storage][env]") {
  bool saw_partial = false;
  for (uint64_t seed = 1; seed <= 50; seed++) {
    MemEnv env;
    REQUIRE(env.CreateDir("/db").ok());
    std::unique_ptr<WritableFile> w;
    REQUIRE(env.NewWritableFile("/db/log", &w).ok());
    REQUIRE(w->Append("base").ok());
    REQUIRE(w->Sync().ok());
    REQUIRE(env.SyncDir("/db").ok());
    REQUIRE(w->Append("0123456789").ok());
    env.CrashLoseUnsynced(seed);
    std::string data;
    REQUIRE(ReadFileToString(&env, "/db/log", &data).ok());
    REQUIRE(data.size() >= 4);
    REQUIRE(data.size() <= 14);
    REQUIRE(std::string("base0123456789").compare(0, data.size(), data) == 0);
    if (data.size() > 4 && data.size() < 14) saw_partial = true;
  }
  REQUIRE(saw_partial);
}

TEST_CASE("MemEnv FlipByte corrupts exactly one byte", "[storage][env]") {
  MemEnv env;
  REQUIRE(WriteStringToFile(&env, "abc", "/f", true).ok());
  REQUIRE(env.FlipByte("/f", 1, 0x01).ok());
  std::string data;
  REQUIRE(ReadFileToString(&env, "/f", &data).ok());
  REQUIRE(data == std::string("a") + static_cast<char>('b' ^ 1) + "c");
  REQUIRE(env.FlipByte("/f", 3).IsOutOfRange());
}

TEST_CASE("FaultInjectionEnv turns injected faults into Status", "[storage][env]") {
  MemEnv mem;
  FaultInjectionEnv env(&mem);
  std::unique_ptr<WritableFile> w;
  REQUIRE(env.NewWritableFile("/f", &w).ok());
  REQUIRE(w->Append("ok").ok());

  env.set_fail_writes(true);
  REQUIRE(w->Append("no").IsIOError());
  env.set_write_error_is_no_space(true);
  REQUIRE(w->Append("no").IsNoSpace());
  env.set_fail_writes(false);

  env.set_fail_syncs(true);
  REQUIRE(w->Sync().IsIOError());
  env.set_fail_syncs(false);
  REQUIRE(w->Sync().ok());
  REQUIRE(env.sync_count() == 1);

  env.FailMutationsAfter(2);
  REQUIRE(w->Append("1").ok());
  REQUIRE(w->Append("2").ok());
  REQUIRE_FALSE(w->Append("3").ok());
  env.FailMutationsAfter(-1);
  REQUIRE(w->Append("4").ok());

  env.set_fail_reads(true);
  std::string data;
  REQUIRE(ReadFileToString(&env, "/f", &data).IsIOError());
  env.set_fail_reads(false);
  REQUIRE(ReadFileToString(&env, "/f", &data).ok());
  REQUIRE(data == "ok124");

  env.set_fail_creates(true);
  REQUIRE(env.NewWritableFile("/g", &w).IsIOError());
  REQUIRE(env.RenameFile("/f", "/g").IsIOError());
}
