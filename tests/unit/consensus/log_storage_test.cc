// MemoryLogStorage: etcd MemoryStorage semantics.
#include <catch2/catch.hpp>

#include "consensus/log_storage.h"
#include "tests/unit/consensus/network.h"

namespace ringkv::consensus {

using test::MakeEntries;

TEST_CASE("log storage: term, entries, compaction errors", "[consensus][storage]") {
  MemoryLogStorage s;
  REQUIRE(s.Append(MakeEntries({{1, 1}, {2, 1}, {3, 2}, {4, 3}})).ok());
  CHECK(s.FirstIndex() == 1);
  CHECK(s.LastIndex() == 4);
  CHECK(*s.Term(0) == 0);
  CHECK(*s.Term(3) == 2);
  CHECK(IsUnavailable(s.Term(5).status()));
  auto e = s.Entries(2, 5, kNoLimit);
  REQUIRE(e.ok());
  CHECK(e->size() == 3);
  // Byte limit: at least one entry.
  CHECK(s.Entries(2, 5, 1)->size() == 1);
  CHECK(s.Entries(2, 5, 2 * EntrySize(Entry{}))->size() == 2);
  REQUIRE(s.Compact(3).ok());
  CHECK(s.FirstIndex() == 4);
  CHECK(*s.Term(3) == 2);
  CHECK(IsCompacted(s.Term(2).status()));
  CHECK(IsCompacted(s.Entries(3, 4, kNoLimit).status()));
  CHECK(IsCompacted(s.Compact(2)));
}

TEST_CASE("log storage: append truncates a conflicting tail", "[consensus][storage]") {
  MemoryLogStorage s;
  REQUIRE(s.Append(MakeEntries({{1, 1}, {2, 1}, {3, 1}})).ok());
  REQUIRE(s.Append(MakeEntries({{2, 2}})).ok());
  CHECK(s.LastIndex() == 2);
  CHECK(*s.Term(2) == 2);
  // A gap is refused.
  CHECK(s.Append(MakeEntries({{5, 2}})).IsInvalidArgument());
  // Entries before the first index are skipped.
  REQUIRE(s.Compact(2).ok());
  REQUIRE(s.Append(MakeEntries({{1, 1}, {2, 2}, {3, 3}})).ok());
  CHECK(s.LastIndex() == 3);
  CHECK(*s.Term(3) == 3);
}

TEST_CASE("log storage: snapshots", "[consensus][storage]") {
  MemoryLogStorage s;
  REQUIRE(s.Append(MakeEntries({{1, 1}, {2, 1}, {3, 2}})).ok());
  ConfState cs{{1, 2, 3}};
  auto snap = s.CreateSnapshot(2, &cs, "data");
  REQUIRE(snap.ok());
  CHECK(snap->meta.index == 2);
  CHECK(snap->meta.term == 1);
  CHECK(s.CreateSnapshot(2, &cs, "x").status().IsOutOfRange());
  Snapshot newer{SnapshotMeta{10, 4, cs}, "d2"};
  REQUIRE(s.ApplySnapshot(newer).ok());
  CHECK(s.FirstIndex() == 11);
  CHECK(s.LastIndex() == 10);
  CHECK(*s.Term(10) == 4);
  CHECK(s.ApplySnapshot(*snap).IsOutOfRange());
  CHECK(s.GetInitialState()->conf_state == cs);
}

}  // namespace ringkv::consensus
