// RaftLog: round trips for many groups, conflict truncation, compaction and
// segment deletion, reopen, torn tails at every byte of the last record,
// corruption reported with segment and offset, group commit (one sync for a
// batch from many groups), sticky I/O errors, and the bounded entry cache.
// All on MemEnv (deterministic, in memory) unless stated.
#include "storage/raftlog/raft_log.h"

#include <catch2/catch.hpp>
#include <stdlib.h>

#include <algorithm>
#include <map>
#include <random>
#include <thread>

#include "storage/env/fault_injection_env.h"
#include "storage/env/mem_env.h"

namespace ringkv::storage::raftlog {
namespace {

const std::string kDir = "/log";

std::unique_ptr<RaftLog> OpenLog(Env* env, RaftLogOptions options = {}) {
  std::unique_ptr<RaftLog> log;
  Status st = RaftLog::Open(env, kDir, options, &log);
  INFO(st.ToString());
  REQUIRE(st.ok());
  return log;
}

std::string Payload(uint64_t group, uint64_t index, uint64_t term, size_t size) {
  std::string s =
      "g" + std::to_string(group) + "i" + std::to_string(index) + "t" + std::to_string(term) + ":";
  while (s.size() < size) s.push_back(static_cast<char>('a' + (index * 7 + s.size()) % 26));
  return s;
}

std::vector<LogEntry> Batch(uint64_t group, uint64_t first, uint64_t count, uint64_t term,
                            size_t size = 40) {
  std::vector<LogEntry> v;
  for (uint64_t i = first; i < first + count; ++i)
    v.push_back({i, term, Payload(group, i, term, size)});
  return v;
}

// A model of what the log should contain, checked against the real thing.
struct Model {
  struct Group {
    uint64_t first = 1;
    std::vector<LogEntry> entries;
    std::string hard_state;
  };
  std::map<uint64_t, Group> groups;

  void Append(uint64_t g, const std::vector<LogEntry>& es) {
    auto& m = groups[g];
    while (!m.entries.empty() && m.entries.back().index >= es[0].index) m.entries.pop_back();
    m.entries.insert(m.entries.end(), es.begin(), es.end());
  }
  void Check(RaftLog* log) const {
    for (const auto& [g, m] : groups) {
      INFO("group " << g);
      REQUIRE(log->FirstIndex(g) == m.first);
      REQUIRE(log->LastIndex(g) == m.first + m.entries.size() - 1);
      std::vector<LogEntry> got;
      REQUIRE(log->Entries(g, m.first, m.first + m.entries.size(), UINT64_MAX, &got).ok());
      REQUIRE(got == m.entries);
      for (const LogEntry& e : m.entries) REQUIRE(*log->Term(g, e.index) == e.term);
      if (!m.hard_state.empty()) REQUIRE(*log->HardState(g) == m.hard_state);
    }
  }
};

TEST_CASE("RaftLog round trip of many groups, before and after reopen", "[storage][raftlog]") {
  MemEnv env;
  RaftLogOptions options;
  options.segment_bytes = 64 << 10;  // several segments
  options.cache_bytes = 8 << 10;     // most reads come back from the segments
  Model model;
  std::mt19937_64 rng(42);
  {
    auto log = OpenLog(&env, options);
    for (int round = 0; round < 40; ++round) {
      for (uint64_t g = 1; g <= 30; ++g) {
        uint64_t next = log->LastIndex(g) + 1;
        auto batch = Batch(g, next, 1 + rng() % 4, 1 + round / 10, 10 + rng() % 200);
        REQUIRE(log->Append(g, batch).ok());
        model.Append(g, batch);
        std::string hs = "hs-" + std::to_string(g) + "-" + std::to_string(round);
        REQUIRE(log->SetHardState(g, hs).ok());
        model.groups[g].hard_state = hs;
      }
      REQUIRE(log->Sync().ok());
    }
    model.Check(log.get());
    CHECK(log->Segments().size() > 3);
    CHECK(log->stats().cache_misses > 0);
    CHECK(log->stats().cached_bytes <= options.cache_bytes);
  }
  auto log = OpenLog(&env, options);
  model.Check(log.get());
  CHECK(log->Groups().size() == 30);
  // Entries honours max_bytes but always returns at least one entry.
  std::vector<LogEntry> some;
  REQUIRE(log->Entries(7, 1, 5, 1, &some).ok());
  CHECK(some.size() == 1);
}

TEST_CASE("RaftLog truncation on conflict", "[storage][raftlog]") {
  MemEnv env;
  Model model;
  {
    auto log = OpenLog(&env);
    REQUIRE(log->Append(1, Batch(1, 1, 10, 1)).ok());
    model.Append(1, Batch(1, 1, 10, 1));
    // A new leader overwrites 6..: the suffix 6..10 is replaced by 6..8.
    REQUIRE(log->Append(1, Batch(1, 6, 3, 2)).ok());
    model.Append(1, Batch(1, 6, 3, 2));
    CHECK(log->LastIndex(1) == 8);
    CHECK(*log->Term(1, 5) == 1);
    CHECK(*log->Term(1, 6) == 2);
    REQUIRE(log->Truncate(1, 8).ok());
    model.groups[1].entries.pop_back();
    REQUIRE(log->Truncate(1, 100).ok());           // past the end: no-op
    CHECK(log->Term(1, 8).status().IsNotFound());  // unavailable
    REQUIRE(log->Sync().ok());
    model.Check(log.get());
    // Invalid appends are refused and change nothing.
    CHECK(log->Append(1, Batch(1, 10, 1, 2)).IsInvalidArgument());  // gap
    auto bad = Batch(1, 8, 2, 2);
    bad[1].index = 20;
    CHECK(log->Append(1, bad).IsInvalidArgument());                // not consecutive
    CHECK(log->Append(2, Batch(2, 5, 1, 1)).IsInvalidArgument());  // fresh group starts at 1
    model.Check(log.get());
  }
  auto log = OpenLog(&env);
  model.Check(log.get());
  CHECK(log->LastIndex(2) == 0);
}

TEST_CASE("RaftLog compaction deletes segments and survives reopen", "[storage][raftlog]") {
  MemEnv env;
  RaftLogOptions options;
  options.segment_bytes = 4096;
  {
    auto log = OpenLog(&env, options);
    // Group 9 sets its hard state once and then stays idle: the checkpoints
    // must carry it forward so it never pins an old segment.
    REQUIRE(log->SetHardState(9, "idle-group-state").ok());
    for (uint64_t i = 1; i <= 400; i += 4) {
      REQUIRE(log->Append(1, Batch(1, i, 4, 3, 100)).ok());
      REQUIRE(log->Append(2, Batch(2, i, 4, 3, 100)).ok());
      REQUIRE(log->Sync().ok());
    }
    size_t before = log->Segments().size();
    REQUIRE(before > 20);
    std::vector<std::string> files;
    REQUIRE(env.GetChildren(kDir, &files).ok());
    CHECK(files.size() == before);

    REQUIRE(log->Compact(1, 351).ok());
    REQUIRE(log->Sync().ok());
    CHECK(log->Segments().front() == 1);  // group 2 still needs the oldest segments
    CHECK(log->stats().segments_deleted == 0);
    REQUIRE(log->Compact(2, 301).ok());
    REQUIRE(log->Sync().ok());
    size_t after = log->Segments().size();
    CHECK(after <= before / 2);
    CHECK(log->Segments().front() > 1);
    CHECK(log->stats().segments_created - log->stats().segments_deleted == after);
    REQUIRE(env.GetChildren(kDir, &files).ok());
    CHECK(files.size() == after);

    CHECK(log->FirstIndex(1) == 351);
    CHECK(*log->Term(1, 350) == 3);                    // the compaction term is kept
    CHECK(log->Term(1, 349).status().IsOutOfRange());  // compacted
    std::vector<LogEntry> got;
    CHECK(log->Entries(1, 300, 360, UINT64_MAX, &got).IsOutOfRange());
    CHECK(log->Entries(1, 360, 402, UINT64_MAX, &got).IsNotFound());

    // A snapshot from the leader, beyond the end of the log.
    REQUIRE(log->Compact(3, 1000, 7).ok());
    CHECK(log->FirstIndex(3) == 1000);
    CHECK(log->LastIndex(3) == 999);
    CHECK(*log->Term(3, 999) == 7);
    REQUIRE(log->Append(3, Batch(3, 1000, 2, 8)).ok());
    REQUIRE(log->Sync().ok());
  }
  auto log = OpenLog(&env, options);
  CHECK(log->FirstIndex(1) == 351);
  CHECK(log->LastIndex(1) == 400);
  CHECK(*log->Term(1, 350) == 3);
  CHECK(log->FirstIndex(2) == 301);
  CHECK(*log->HardState(9) == "idle-group-state");
  CHECK(log->FirstIndex(3) == 1000);
  CHECK(*log->Term(3, 999) == 7);
  CHECK(*log->Term(3, 1001) == 8);
  std::vector<LogEntry> got;
  REQUIRE(log->Entries(1, 351, 401, UINT64_MAX, &got).ok());
  REQUIRE(got.size() == 50);
  CHECK(got.back().data == Payload(1, 400, 3, 100));
  CHECK(log->Truncate(1, 300).IsInvalidArgument());
}

TEST_CASE("RaftLog compaction point keeps entries by count and bytes", "[storage][raftlog]") {
  MemEnv env;
  auto log = OpenLog(&env);
  REQUIRE(log->Append(1, Batch(1, 1, 100, 2, 100)).ok());  // 100 entries of 100 bytes
  // Up to 10 entries before 60 (inclusive) fit: compact before 51.
  CHECK(log->CompactionPoint(1, 60, 10, 1 << 20) == 51);
  // The byte bound cuts first: 350 bytes hold 3 entries.
  CHECK(log->CompactionPoint(1, 60, 10, 350) == 58);
  // Nothing kept: right after the snapshot index, as before.
  CHECK(log->CompactionPoint(1, 60, 0, 1 << 20) == 61);
  CHECK(log->CompactionPoint(1, 60, 10, 0) == 61);
  // Never below the first index; an unknown group or an index before the log.
  CHECK(log->CompactionPoint(1, 60, 1000, 1 << 20) == 1);
  CHECK(log->CompactionPoint(7, 60, 10, 1 << 20) == 61);
  REQUIRE(log->Compact(1, 51).ok());
  CHECK(log->CompactionPoint(1, 55, 10, 1 << 20) == 51);
  CHECK(log->CompactionPoint(1, 40, 10, 1 << 20) == 41);
  // Past the last index: counted from the last entry.
  CHECK(log->CompactionPoint(1, 500, 10, 1 << 20) == 91);
}

TEST_CASE("RaftLog DropGroup forgets a group across reopen", "[storage][raftlog]") {
  MemEnv env;
  {
    auto log = OpenLog(&env);
    REQUIRE(log->Append(4, Batch(4, 1, 3, 1)).ok());
    REQUIRE(log->SetHardState(4, "x").ok());
    REQUIRE(log->Append(5, Batch(5, 1, 3, 1)).ok());
    REQUIRE(log->DropGroup(4).ok());
    REQUIRE(log->Sync().ok());
    CHECK(log->HardState(4).status().IsNotFound());
  }
  auto log = OpenLog(&env);
  CHECK(log->Groups() == std::vector<uint64_t>{5});
  CHECK(log->LastIndex(4) == 0);
}

// Builds a one-segment log whose last record is an entries batch; returns the
// segment bytes and the offset where the last record starts.
std::string BuildSegment(size_t* last_record_start) {
  MemEnv env;
  auto log = OpenLog(&env);
  for (uint64_t g = 1; g <= 3; ++g) {
    REQUIRE(log->Append(g, Batch(g, 1, 5, 1)).ok());
    REQUIRE(log->SetHardState(g, "hs" + std::to_string(g)).ok());
  }
  REQUIRE(log->Sync().ok());
  std::string path = kDir + "/" + SegmentFileName(1);
  uint64_t size = 0;
  REQUIRE(env.GetFileSize(path, &size).ok());
  *last_record_start = size;
  REQUIRE(log->Append(2, Batch(2, 6, 3, 2, 60)).ok());
  REQUIRE(log->Sync().ok());
  std::string data;
  REQUIRE(ReadFileToString(&env, path, &data).ok());
  return data;
}

void CheckSurvivors(RaftLog* log) {
  for (uint64_t g = 1; g <= 3; ++g) {
    std::vector<LogEntry> got;
    REQUIRE(log->Entries(g, 1, 6, UINT64_MAX, &got).ok());
    REQUIRE(got == Batch(g, 1, 5, 1));
    REQUIRE(*log->HardState(g) == "hs" + std::to_string(g));
  }
}

TEST_CASE("RaftLog recovers from a torn last record at every byte offset", "[storage][raftlog]") {
  size_t start = 0;
  const std::string full = BuildSegment(&start);
  REQUIRE(start < full.size());
  const std::string path = kDir + "/" + SegmentFileName(1);
  for (size_t cut = start; cut <= full.size(); ++cut) {
    for (int zero_fill = 0; zero_fill < 2; ++zero_fill) {
      INFO("cut at " << cut << " zero_fill " << zero_fill);
      MemEnv env;
      REQUIRE(env.CreateDir(kDir).ok());
      std::string bytes = full.substr(0, cut);
      if (zero_fill) bytes.resize(full.size() + 16, '\0');  // a crash that left zeroed blocks
      REQUIRE(WriteStringToFile(&env, bytes, path, true).ok());
      auto log = OpenLog(&env);
      CheckSurvivors(log.get());
      const bool whole = cut == full.size();
      REQUIRE(log->LastIndex(2) == (whole ? 8u : 5u));
      REQUIRE(log->stats().torn_bytes_dropped == bytes.size() - (whole ? full.size() : start));
      // The log continues cleanly after the cut, across another reopen.
      REQUIRE(log->Append(1, Batch(1, 6, 1, 4)).ok());
      REQUIRE(log->Sync().ok());
      log.reset();
      log = OpenLog(&env);
      CheckSurvivors(log.get());
      REQUIRE(*log->Term(1, 6) == 4);
    }
  }
}

TEST_CASE("RaftLog recovers from a half-created newest segment", "[storage][raftlog]") {
  size_t start = 0;
  const std::string full = BuildSegment(&start);
  for (size_t header_bytes = 0; header_bytes < kSegmentHeaderSize; ++header_bytes) {
    INFO("header bytes " << header_bytes);
    MemEnv env;
    REQUIRE(env.CreateDir(kDir).ok());
    REQUIRE(WriteStringToFile(&env, full, kDir + "/" + SegmentFileName(1), true).ok());
    // Short headers, and (header_bytes == 0) a zero-filled 4 KiB block.
    std::string second = header_bytes == 0 ? std::string(4096, '\0')
                                           : EncodeSegmentHeader(2).substr(0, header_bytes);
    REQUIRE(WriteStringToFile(&env, second, kDir + "/" + SegmentFileName(2), true).ok());
    auto log = OpenLog(&env);
    CheckSurvivors(log.get());
    CHECK_FALSE(env.FileExists(kDir + "/" + SegmentFileName(2)));
    // The next segment reuses number 2, so the numbering stays contiguous.
    REQUIRE(log->Append(1, Batch(1, 6, 1, 4)).ok());
    REQUIRE(log->Sync().ok());
    CHECK(log->Segments().back() == 2);
    log.reset();
    log = OpenLog(&env);
    CheckSurvivors(log.get());
    CHECK(*log->Term(1, 6) == 4);
  }
}

TEST_CASE("RaftLog keeps every synced record through power losses", "[storage][raftlog]") {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    INFO("seed " << seed);
    MemEnv env;
    RaftLogOptions options;
    options.segment_bytes = 2048;
    uint64_t synced_last = 0;
    {
      auto log = OpenLog(&env, options);
      for (uint64_t i = 1; i <= 60; i += 3) {
        REQUIRE(log->Append(1, Batch(1, i, 3, 1, 50)).ok());
        if (i % 2 == 1) {
          REQUIRE(log->Sync().ok());
          synced_last = i + 2;
        }
      }
      REQUIRE(log->Sync().ok());
      synced_last = 60;
      REQUIRE(log->Append(1, Batch(1, 61, 5, 1, 50)).ok());  // never synced
    }
    env.CrashLoseUnsynced(seed);
    auto log = OpenLog(&env, options);
    REQUIRE(log->LastIndex(1) >= synced_last);
    std::vector<LogEntry> got;
    REQUIRE(log->Entries(1, 1, log->LastIndex(1) + 1, UINT64_MAX, &got).ok());
    REQUIRE(got == Batch(1, 1, log->LastIndex(1), 1, 50));
  }
}

TEST_CASE("RaftLog reports corruption with segment and offset", "[storage][raftlog]") {
  size_t start = 0;
  const std::string full = BuildSegment(&start);
  const std::string path = kDir + "/" + SegmentFileName(1);

  SECTION("a flipped byte in a middle record") {
    MemEnv env;
    REQUIRE(env.CreateDir(kDir).ok());
    REQUIRE(WriteStringToFile(&env, full, path, true).ok());
    // The first record after the header (header 20 bytes, record header 9).
    REQUIRE(env.FlipByte(path, kSegmentHeaderSize + 12, 0x01).ok());
    std::unique_ptr<RaftLog> log;
    Status st = RaftLog::Open(&env, kDir, {}, &log);
    CHECK(st.IsCorruption());
    CHECK(st.message().find(SegmentFileName(1) + " offset 20") != std::string::npos);
  }
  SECTION("a garbled length in a middle record") {
    MemEnv env;
    REQUIRE(env.CreateDir(kDir).ok());
    REQUIRE(WriteStringToFile(&env, full, path, true).ok());
    REQUIRE(env.FlipByte(path, kSegmentHeaderSize + 7, 0x40).ok());
    std::unique_ptr<RaftLog> log;
    Status st = RaftLog::Open(&env, kDir, {}, &log);
    CHECK(st.IsCorruption());
    CHECK(st.message().find("offset 20") != std::string::npos);
  }
  SECTION("a torn tail in a segment that is not the last") {
    MemEnv env;
    REQUIRE(env.CreateDir(kDir).ok());
    REQUIRE(WriteStringToFile(&env, full.substr(0, full.size() - 3), path, true).ok());
    REQUIRE(WriteStringToFile(&env, EncodeSegmentHeader(2), kDir + "/" + SegmentFileName(2), true)
                .ok());
    std::unique_ptr<RaftLog> log;
    Status st = RaftLog::Open(&env, kDir, {}, &log);
    CHECK(st.IsCorruption());
    CHECK(st.message().find(SegmentFileName(1) + " offset " + std::to_string(start)) !=
          std::string::npos);
  }
  SECTION("a missing segment") {
    MemEnv env;
    REQUIRE(env.CreateDir(kDir).ok());
    REQUIRE(WriteStringToFile(&env, full, path, true).ok());
    REQUIRE(WriteStringToFile(&env, EncodeSegmentHeader(3), kDir + "/" + SegmentFileName(3), true)
                .ok());
    std::unique_ptr<RaftLog> log;
    CHECK(RaftLog::Open(&env, kDir, {}, &log).IsCorruption());
  }
  SECTION("a bad segment header") {
    MemEnv env;
    REQUIRE(env.CreateDir(kDir).ok());
    REQUIRE(WriteStringToFile(&env, full, path, true).ok());
    REQUIRE(env.FlipByte(path, 9).ok());
    std::unique_ptr<RaftLog> log;
    CHECK(RaftLog::Open(&env, kDir, {}, &log).IsCorruption());
  }
  SECTION("corruption found by a read after open") {
    MemEnv env;
    RaftLogOptions options;
    options.cache_bytes = 0;
    auto log = OpenLog(&env, options);
    REQUIRE(log->Append(1, Batch(1, 1, 3, 1)).ok());
    REQUIRE(log->Sync().ok());
    REQUIRE(env.FlipByte(kDir + "/" + SegmentFileName(1), kSegmentHeaderSize + 30).ok());
    std::vector<LogEntry> got;
    Status st = log->Entries(1, 1, 2, UINT64_MAX, &got);
    CHECK(st.IsCorruption());
    CHECK(st.message().find("offset 20") != std::string::npos);
  }
}

TEST_CASE("RaftLog group commit: one sync for a batch from many groups", "[storage][raftlog]") {
  MemEnv env;
  auto log = OpenLog(&env);
  REQUIRE(log->SetHardState(0, "meta").ok());
  REQUIRE(log->Sync().ok());  // creates the first segment
  const uint64_t env_syncs = env.sync_count();
  const RaftLogStats before = log->stats();
  for (uint64_t g = 1; g <= 200; ++g) {
    REQUIRE(log->Append(g, Batch(g, 1, 2, 1)).ok());
    REQUIRE(log->SetHardState(g, "term=1 vote=" + std::to_string(g)).ok());
  }
  CHECK(log->HasPending());
  REQUIRE(log->Sync().ok());
  CHECK(env.sync_count() - env_syncs == 1);
  CHECK(log->stats().file_syncs - before.file_syncs == 1);
  CHECK(log->stats().sync_calls - before.sync_calls == 1);
  // Nothing pending: no sync at all.
  REQUIRE(log->Sync().ok());
  CHECK(env.sync_count() - env_syncs == 1);
}

TEST_CASE("RaftLog write errors are sticky and lose nothing synced", "[storage][raftlog]") {
  MemEnv base;
  FaultInjectionEnv env(&base);
  {
    auto log = OpenLog(&env);
    REQUIRE(log->Append(1, Batch(1, 1, 3, 1)).ok());
    REQUIRE(log->Sync().ok());
    REQUIRE(log->Append(1, Batch(1, 4, 3, 1)).ok());
    env.set_fail_syncs(true);
    CHECK(log->Sync().IsIOError());
    env.set_fail_syncs(false);
    CHECK(!log->Sync().ok());                        // sticky
    CHECK(!log->Append(1, Batch(1, 7, 1, 1)).ok());  // refuses further writes
  }
  auto log = OpenLog(&env);
  CHECK(log->LastIndex(1) >= 3);
  std::vector<LogEntry> got;
  REQUIRE(log->Entries(1, 1, 4, UINT64_MAX, &got).ok());
  CHECK(got == Batch(1, 1, 3, 1));
}

TEST_CASE("RaftLog split sync: the durable part on another thread", "[storage][raftlog]") {
  MemEnv env;
  RaftLogOptions options;
  options.segment_bytes = 4096;  // several batches cross into a new segment
  options.cache_bytes = 0;       // reads come back from the segments
  {
    auto log = OpenLog(&env, options);
    uint64_t next = 1;
    for (int round = 0; round < 30; ++round) {
      REQUIRE(log->Append(1, Batch(1, next, 4, 1, 100)).ok());
      next += 4;
      bool owed = false;
      REQUIRE(log->SyncBegin(&owed).ok());
      REQUIRE(owed);
      CHECK(!log->HasPending());
      // While the sync runs: memory-only writes join the next batch, and reads
      // see both what is being synced and what is newer.
      REQUIRE(log->Append(1, Batch(1, next, 2, 1, 100)).ok());
      next += 2;
      REQUIRE(log->SetHardState(1, "hs" + std::to_string(round)).ok());
      Status durable;
      std::thread t([&] { durable = log->SyncDurable(); });
      std::vector<LogEntry> got;
      REQUIRE(log->Entries(1, 1, next, UINT64_MAX, &got).ok());
      CHECK(got == Batch(1, 1, next - 1, 1, 100));
      t.join();
      REQUIRE(log->SyncEnd(durable).ok());
      CHECK(log->HasPending());
    }
    // Nothing pending: no sync owed.
    REQUIRE(log->Sync().ok());
    bool owed = true;
    REQUIRE(log->SyncBegin(&owed).ok());
    CHECK(!owed);
  }
  // Everything synced survives a crash that drops unsynced bytes.
  env.CrashLoseUnsynced(7);
  auto log = OpenLog(&env, options);
  REQUIRE(log->LastIndex(1) == 180);
  std::vector<LogEntry> got;
  REQUIRE(log->Entries(1, 1, 181, UINT64_MAX, &got).ok());
  CHECK(got == Batch(1, 1, 180, 1, 100));
  CHECK(log->HardState(1).value() == "hs29");
}

TEST_CASE("RaftLog split sync: a failed durable sync is sticky", "[storage][raftlog]") {
  MemEnv base;
  FaultInjectionEnv env(&base);
  auto log = OpenLog(&env);
  REQUIRE(log->Append(1, Batch(1, 1, 3, 1)).ok());
  REQUIRE(log->Sync().ok());
  REQUIRE(log->Append(1, Batch(1, 4, 3, 1)).ok());
  bool owed = false;
  REQUIRE(log->SyncBegin(&owed).ok());
  REQUIRE(owed);
  env.set_fail_syncs(true);
  Status durable = log->SyncDurable();
  CHECK(durable.IsIOError());
  CHECK(log->SyncEnd(durable).IsIOError());
  env.set_fail_syncs(false);
  CHECK(!log->Append(1, Batch(1, 7, 1, 1)).ok());  // refuses further writes
  CHECK(!log->SyncBegin(&owed).ok());
}

TEST_CASE("RaftLog cache is bounded and unsynced entries stay readable", "[storage][raftlog]") {
  MemEnv env;
  RaftLogOptions options;
  options.cache_bytes = 1000;
  auto log = OpenLog(&env, options);
  for (uint64_t i = 1; i <= 200; ++i) {
    REQUIRE(log->Append(1, Batch(1, i, 1, 1, 100)).ok());
    REQUIRE(log->stats().cached_bytes <= options.cache_bytes);
  }
  // Not synced yet: evicted entries are served from the pending buffer.
  std::vector<LogEntry> got;
  REQUIRE(log->Entries(1, 1, 201, UINT64_MAX, &got).ok());
  CHECK(got == Batch(1, 1, 200, 1, 100));
  CHECK(log->stats().cache_misses > 150);
  REQUIRE(log->Sync().ok());
  REQUIRE(log->Entries(1, 1, 201, UINT64_MAX, &got).ok());
  CHECK(got == Batch(1, 1, 200, 1, 100));
}

TEST_CASE("RaftLog on disk: preallocated segments replay, open or rolled", "[storage][raftlog]") {
  // PosixEnv: segments are kept ahead of their data with zeros (so a sync
  // writes data only); a rolled segment is trimmed, and the newest one, copied
  // while open as a crash would leave it, still ends in zeros and replays to
  // everything synced.
  char tmpl[] = "/tmp/ringkv-raftlog-test-XXXXXX";
  const std::string root = mkdtemp(tmpl);
  Env* env = Env::Default();
  const std::string live = root + "/live", copy = root + "/copy";
  RaftLogOptions options;
  options.segment_bytes = 3 << 20;  // rolls once in the writes below
  Model model;
  std::unique_ptr<RaftLog> log;
  REQUIRE(RaftLog::Open(env, live, options, &log).ok());
  for (uint64_t i = 1; i <= 4000; i += 20) {
    auto b = Batch(1, i, 20, 2, 1000);
    REQUIRE(log->Append(1, b).ok());
    model.Append(1, b);
    REQUIRE(log->Sync().ok());
  }
  REQUIRE(log->Segments().size() == 2);
  std::vector<std::string> names;
  REQUIRE(env->GetChildren(live, &names).ok());
  std::sort(names.begin(), names.end());
  REQUIRE(names.size() == 2);
  uint64_t first_size = 0, last_size = 0;
  REQUIRE(env->GetFileSize(live + "/" + names[0], &first_size).ok());
  REQUIRE(env->GetFileSize(live + "/" + names[1], &last_size).ok());
  CHECK(first_size % 4096 != 0);  // rolled: trimmed to its records
  CHECK(last_size % 4096 == 0);   // open: zeros up to a whole step
  REQUIRE(env->CreateDir(copy).ok());
  for (const std::string& n : names) {
    std::string bytes;
    REQUIRE(ReadFileToString(env, live + "/" + n, &bytes).ok());
    REQUIRE(WriteStringToFile(env, bytes, copy + "/" + n, true).ok());
  }
  std::unique_ptr<RaftLog> replayed;
  Status st = RaftLog::Open(env, copy, options, &replayed);
  INFO(st.ToString());
  REQUIRE(st.ok());
  model.Check(replayed.get());
  CHECK(replayed->stats().torn_bytes_dropped > 0);  // the zero tail
  replayed.reset();
  log.reset();
  REQUIRE(RaftLog::Open(env, live, options, &log).ok());
  model.Check(log.get());
  log.reset();
  std::string cmd = "rm -rf '" + root + "'";
  REQUIRE(system(cmd.c_str()) == 0);
}

TEST_CASE("Segment file names round trip", "[storage][raftlog]") {
  uint64_t seq = 0;
  CHECK(SegmentFileName(42) == "wal-00000000000000000042.log");
  CHECK(ParseSegmentFileName(SegmentFileName(42), &seq));
  CHECK(seq == 42);
  CHECK(ParseSegmentFileName(SegmentFileName(UINT64_MAX), &seq));
  CHECK(seq == UINT64_MAX);
  CHECK_FALSE(ParseSegmentFileName("wal-0000000000000000004x.log", &seq));
  CHECK_FALSE(ParseSegmentFileName("LOCK", &seq));
}

}  // namespace
}  // namespace ringkv::storage::raftlog

namespace ringkv::storage::raftlog {
namespace {

// Recovery must turn any damage into a Status, never a crash or a hang:
// random byte flips, truncations and garbage appended to a real segment.
TEST_CASE("RaftLog recovery survives random damage", "[storage][raftlog]") {
  size_t start = 0;
  const std::string full = BuildSegment(&start);
  const std::string path = kDir + "/" + SegmentFileName(1);
  std::mt19937_64 rng(7);
  int opened = 0, corrupt = 0;
  for (int trial = 0; trial < 1500; ++trial) {
    std::string bytes = full;
    for (int k = 0, n = 1 + static_cast<int>(rng() % 4); k < n; ++k) {
      switch (rng() % 3) {
        case 0:
          bytes[rng() % bytes.size()] ^= static_cast<char>(1 + rng() % 255);
          break;
        case 1:
          bytes.resize(rng() % (bytes.size() + 1));
          break;
        default:
          for (int j = 0, m = static_cast<int>(rng() % 40); j < m; ++j) {
            bytes.push_back(static_cast<char>(rng()));
          }
      }
      if (bytes.empty()) break;
    }
    MemEnv env;
    REQUIRE(env.CreateDir(kDir).ok());
    REQUIRE(WriteStringToFile(&env, bytes, path, true).ok());
    std::unique_ptr<RaftLog> log;
    Status st = RaftLog::Open(&env, kDir, {}, &log);
    if (!st.ok()) {
      REQUIRE(st.IsCorruption());
      ++corrupt;
      continue;
    }
    ++opened;
    for (uint64_t g : log->Groups()) {
      std::vector<LogEntry> got;
      Status rs = log->Entries(g, log->FirstIndex(g), log->LastIndex(g) + 1, UINT64_MAX, &got);
      REQUIRE(rs.ok());
    }
  }
  CHECK(opened > 0);
  CHECK(corrupt > 0);
}

}  // namespace
}  // namespace ringkv::storage::raftlog

namespace ringkv::storage::raftlog {

// Append(&&) takes the entries' data into the cache instead of copying it; the log must
// read the same back (from the cache, and from the segment after a reopen), and the
// pending buffer reused across Syncs must not leak bytes of an earlier batch.
TEST_CASE("raftlog: append by move and buffer reuse across syncs", "[raftlog]") {
  MemEnv env;
  std::map<uint64_t, std::vector<LogEntry>> want;
  {
    auto log = OpenLog(&env);
    for (uint64_t round = 0; round < 6; ++round) {
      for (uint64_t g = 1; g <= 4; ++g) {
        // Batch sizes vary so a reused buffer is sometimes larger than needed.
        const uint64_t count = 1 + (round * 3 + g) % 7;
        const uint64_t first = log->LastIndex(g) + 1;
        auto batch = Batch(g, first, count, 1, 20 + 30 * ((round + g) % 3));
        want[g].insert(want[g].end(), batch.begin(), batch.end());
        REQUIRE(log->Append(g, std::move(batch)).ok());
      }
      REQUIRE(log->Sync().ok());
      for (const auto& [g, es] : want) {
        std::vector<LogEntry> got;
        REQUIRE(log->Entries(g, 1, es.size() + 1, UINT64_MAX, &got).ok());
        REQUIRE(got == es);
      }
    }
  }
  auto log = OpenLog(&env);
  for (const auto& [g, es] : want) {
    std::vector<LogEntry> got;
    REQUIRE(log->Entries(g, 1, es.size() + 1, UINT64_MAX, &got).ok());
    CHECK(got == es);
  }
}

}  // namespace ringkv::storage::raftlog
