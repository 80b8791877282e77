// RaftLogStorage: the LogStorage of one group over the shared RaftLog must behave like
// MemoryLogStorage (etcd MemoryStorage semantics) and survive a reopen, including a
// power loss of unsynced writes (MemEnv::CrashLoseUnsynced).
#include <catch2/catch.hpp>

#include "consensus/log_storage.h"
#include "server/replication/payload_codec.h"
#include "server/replication/raft_log_storage.h"
#include "storage/env/mem_env.h"
#include "storage/raftlog/raft_log.h"

namespace ringkv::server::replication {
namespace {

using consensus::ConfState;
using consensus::Entry;
using consensus::EntryType;
using consensus::HardState;
using consensus::IsCompacted;
using consensus::IsUnavailable;
using consensus::kNoLimit;
using consensus::Snapshot;
using consensus::SnapshotMeta;
using storage::raftlog::RaftLog;

std::vector<Entry> Ents(std::vector<std::pair<uint64_t, uint64_t>> it) {
  std::vector<Entry> out;
  for (auto [index, term] : it) {
    Entry e;
    e.index = index;
    e.term = term;
    e.data = "e" + std::to_string(index) + "t" + std::to_string(term);
    out.push_back(e);
  }
  return out;
}

// A node's WAL in a MemEnv, with one storage per group.
struct Fixture {
  storage::MemEnv env;
  std::unique_ptr<RaftLog> log;
  Fixture() {
    REQUIRE(env.CreateDir("/n").ok());
    Reopen();
  }
  void Reopen() {
    log.reset();
    REQUIRE(RaftLog::Open(&env, "/n", storage::raftlog::RaftLogOptions{}, &log).ok());
  }
  std::unique_ptr<RaftLogStorage> Open(uint64_t group) {
    auto s = RaftLogStorage::Open(&env, log.get(), "/n", group);
    REQUIRE(s.ok());
    return std::move(s.value());
  }
};

TEST_CASE("raft log storage: term, entries, compaction errors", "[replication]") {
  Fixture f;
  auto s = f.Open(7);
  CHECK(s->FirstIndex() == 1);
  CHECK(s->LastIndex() == 0);
  REQUIRE(s->Append(Ents({{1, 1}, {2, 1}, {3, 2}, {4, 3}})).ok());
  CHECK(s->FirstIndex() == 1);
  CHECK(s->LastIndex() == 4);
  CHECK(*s->Term(0) == 0);
  CHECK(*s->Term(3) == 2);
  CHECK(IsUnavailable(s->Term(5).status()));
  auto e = s->Entries(2, 5, kNoLimit);
  REQUIRE(e.ok());
  REQUIRE(e->size() == 3);
  CHECK((*e)[0] == Ents({{2, 1}})[0]);
  CHECK(s->Entries(2, 5, 1)->size() == 1);  // at least one entry
  CHECK(IsUnavailable(s->Entries(2, 6, kNoLimit).status()));
  CHECK(s->GetSnapshot().status().IsBusy());  // none taken yet
  REQUIRE(s->CreateSnapshot(3, ConfState{{1, 2, 3}}, "state").ok());
  CHECK(s->FirstIndex() == 4);
  CHECK(*s->Term(3) == 2);
  CHECK(IsCompacted(s->Term(2).status()));
  CHECK(IsCompacted(s->Entries(3, 4, kNoLimit).status()));
  CHECK(s->CreateSnapshot(3, ConfState{{1}}, "x").IsOutOfRange());
  auto snap = s->GetSnapshot();
  REQUIRE(snap.ok());
  CHECK(snap->meta.index == 3);
  CHECK(snap->meta.term == 2);
  CHECK(snap->data == "state");
}

TEST_CASE("raft log storage: entry types and conflicting tails", "[replication]") {
  Fixture f;
  auto s = f.Open(1);
  auto ents = Ents({{1, 1}, {2, 1}, {3, 1}});
  ents[1].type = EntryType::kConfChange;
  REQUIRE(s->Append(ents).ok());
  CHECK(*s->Entries(1, 4, kNoLimit) == ents);
  REQUIRE(s->Append(Ents({{2, 2}})).ok());
  CHECK(s->LastIndex() == 2);
  CHECK(*s->Term(2) == 2);
  CHECK(s->Append(Ents({{5, 2}})).IsInvalidArgument());  // a gap
  REQUIRE(s->CreateSnapshot(2, ConfState{{1}}, "s").ok());
  // Entries before the first index are skipped.
  REQUIRE(s->Append(Ents({{1, 1}, {2, 2}, {3, 3}})).ok());
  CHECK(s->LastIndex() == 3);
  CHECK(*s->Term(3) == 3);
}

TEST_CASE("raft log storage: installing a snapshot replaces the log", "[replication]") {
  Fixture f;
  auto s = f.Open(1);
  REQUIRE(s->Append(Ents({{1, 1}, {2, 1}, {3, 2}, {4, 2}})).ok());
  ConfState cs{{1, 2, 3}};
  // A snapshot inside the log, of another term: everything from its index is cut.
  Snapshot mid{SnapshotMeta{3, 5, cs}, "mid"};
  REQUIRE(s->ApplySnapshot(mid).ok());
  CHECK(s->FirstIndex() == 4);
  CHECK(s->LastIndex() == 3);
  CHECK(*s->Term(3) == 5);
  Snapshot newer{SnapshotMeta{10, 6, cs}, "d2"};
  REQUIRE(s->ApplySnapshot(newer).ok());
  CHECK(s->FirstIndex() == 11);
  CHECK(s->LastIndex() == 10);
  CHECK(*s->Term(10) == 6);
  CHECK(s->ApplySnapshot(mid).IsOutOfRange());
  CHECK(s->GetInitialState()->conf_state == cs);
  CHECK(s->hard_state().commit == 10);
  CHECK(s->GetSnapshot()->data == "d2");
  REQUIRE(s->Append(Ents({{11, 6}, {12, 6}})).ok());
  CHECK(s->LastIndex() == 12);
}

TEST_CASE("raft log storage: restart recovers log, meta and snapshot", "[replication]") {
  Fixture f;
  {
    auto a = f.Open(1);
    auto b = f.Open(2);
    REQUIRE(a->SetConfState(ConfState{{1, 2, 3}}).ok());
    REQUIRE(a->Append(Ents({{1, 1}, {2, 1}, {3, 2}})).ok());
    REQUIRE(a->SetHardState(HardState{2, 1, 3}).ok());
    REQUIRE(b->SetConfState(ConfState{{4}, {5}}).ok());
    REQUIRE(b->Append(Ents({{1, 1}, {2, 1}, {3, 1}, {4, 1}})).ok());
    REQUIRE(b->SetHardState(HardState{1, 4, 4}).ok());
    REQUIRE(b->CreateSnapshot(3, ConfState{{4}, {5}}, "b-state").ok());
    REQUIRE(f.log->Sync().ok());
    // Not synced: lost by the crash below.
    REQUIRE(a->Append(Ents({{4, 2}})).ok());
    REQUIRE(a->SetHardState(HardState{3, 0, 4}).ok());
  }
  f.env.CrashLoseUnsynced();
  f.Reopen();
  auto a = f.Open(1);
  auto b = f.Open(2);
  CHECK(a->hard_state() == HardState{2, 1, 3});
  CHECK(a->GetInitialState()->conf_state == ConfState{{1, 2, 3}});
  CHECK(a->LastIndex() == 3);
  CHECK(*a->Entries(1, 4, kNoLimit) == Ents({{1, 1}, {2, 1}, {3, 2}}));
  CHECK(b->hard_state() == HardState{1, 4, 4});
  CHECK(b->GetInitialState()->conf_state == ConfState{{4}, {5}});
  CHECK(b->FirstIndex() == 4);
  CHECK(b->LastIndex() == 4);
  CHECK(b->snapshot_meta().index == 3);
  auto snap = b->GetSnapshot();
  REQUIRE(snap.ok());
  CHECK(snap->meta.index == 3);
  CHECK(snap->meta.term == 1);
  CHECK(snap->meta.conf_state == ConfState{{4}, {5}});
  CHECK(snap->data == "b-state");
  // A group never written starts empty.
  auto c = f.Open(3);
  CHECK(c->LastIndex() == 0);
  CHECK(c->hard_state().IsEmpty());
}

TEST_CASE("raft log storage: codecs reject damage", "[replication]") {
  Snapshot snap{SnapshotMeta{9, 3, ConfState{{1, 2}}}, "payload"};
  std::string file = EncodeSnapshotFile(snap);
  Snapshot back;
  REQUIRE(DecodeSnapshotFile(file, &back).ok());
  CHECK(back == snap);
  for (size_t i = 0; i < file.size(); i++) {
    std::string bad = file;
    bad[i] ^= 0x40;
    Snapshot x;
    CHECK(!DecodeSnapshotFile(bad, &x).ok());
  }
  CHECK(!DecodeSnapshotFile(file.substr(0, file.size() - 1), &back).ok());
  HardState hs{4, 2, 9};
  std::string meta = EncodeGroupMeta(hs, ConfState{{1, 2, 3}}, SnapshotMeta{5, 2, {}});
  HardState hs2;
  ConfState cs2;
  SnapshotMeta sm2;
  REQUIRE(DecodeGroupMeta(meta, &hs2, &cs2, &sm2).ok());
  CHECK(hs2 == hs);
  CHECK(cs2 == ConfState{{1, 2, 3}});
  CHECK(sm2.index == 5);
  CHECK(sm2.term == 2);
  CHECK(!DecodeGroupMeta(meta.substr(0, meta.size() - 1), &hs2, &cs2, &sm2).ok());

  ProposalHeader h{3, 1ull << 60};
  std::string p = EncodeProposal(h, "SET k v");
  ProposalHeader h2;
  std::string_view cmd;
  REQUIRE(DecodeProposal(p, &h2, &cmd).ok());
  CHECK(h2.node == 3);
  CHECK(h2.id == 1ull << 60);
  CHECK(cmd == "SET k v");
  CHECK(!DecodeProposal("", &h2, &cmd).ok());
  CHECK(!DecodeProposal(std::string(1, '\x09'), &h2, &cmd).ok());
  std::string_view state;
  REQUIRE(DecodeSnapshotData(EncodeSnapshotData(""), &state).ok());
  CHECK(state.empty());
  CHECK(EncodeSnapshotData("").size() == 1);  // never a zero-byte snapshot
}

}  // namespace
}  // namespace ringkv::server::replication
