// Log compaction and chunked InstallSnapshot (§7).
#include <catch2/catch.hpp>

#include "consensus/raft_core.h"
#include "tests/unit/consensus/network.h"

namespace ringkv::consensus {
namespace {

using test::Network;

void Chunked(Config* c) {
  c->max_snapshot_chunk_bytes = 64;
  c->max_size_per_msg = 256;
}

std::string Value(int i) { return "value-" + std::to_string(i) + std::string(40, 'x'); }

// Leaves node 3 behind while 30 entries commit, then compacts 1 and 2.
void LagAndCompact(Network* net) {
  REQUIRE(net->Elect(1));
  net->Isolate(3);
  for (int i = 0; i < 30; ++i) REQUIRE(net->Propose(1, Value(i)).ok());
  net->Stabilize();
  net->Compact(1);
  net->Compact(2);
  REQUIRE(net->raw(1).GetStatus().first_index > net->raw(3).GetStatus().last_index + 1);
}

}  // namespace

TEST_CASE("snapshot 7: a lagging follower receives the snapshot in bounded chunks",
          "[consensus][snapshot]") {
  Network net(3, Chunked);
  LagAndCompact(&net);
  size_t before = net.node(1).sent.size();
  net.Recover();
  net.TickAndStabilize(3);
  CHECK(net.node(3).applied == net.node(1).applied);
  CHECK(net.node(3).applied.size() == 30);
  int chunks = 0, done = 0;
  uint64_t expected_off = 0;
  for (size_t i = before; i < net.node(1).sent.size(); ++i) {
    const Message& m = net.node(1).sent[i];
    if (m.type != MessageType::kSnap) continue;
    ++chunks;
    CHECK(m.snapshot.data.size() <= 64);
    CHECK(m.snapshot_offset == expected_off);  // no loss: in order, no resends
    expected_off += m.snapshot.data.size();
    if (m.snapshot_done) ++done;
  }
  CHECK(chunks > 10);
  CHECK(done == 1);
  // Back to normal replication afterwards.
  auto st = net.raw(1).GetStatus();
  CHECK(st.progress.at(3).state == "replicate");
  REQUIRE(net.Propose(1, "after").ok());
  net.Stabilize();
  CHECK(net.node(3).applied.back() == "after");
  REQUIRE(net.Check().ok());
}

TEST_CASE("snapshot 7: lost and duplicated chunks are recovered", "[consensus][snapshot]") {
  Network net(3, Chunked);
  LagAndCompact(&net);
  net.Recover();
  int n = 0;
  // Drop every third chunk, and every fifth chunk ack.
  net.drop = [&n](const Message& m) {
    if (m.type == MessageType::kSnap) return (++n % 3) == 0;
    if (m.type == MessageType::kSnapResp) return (++n % 5) == 0;
    return false;
  };
  for (int i = 0; i < 200 && net.node(3).applied.size() < 30; ++i) net.TickAndStabilize(1);
  CHECK(net.node(3).applied == net.node(1).applied);
  REQUIRE(net.Check().ok());
}

TEST_CASE("snapshot 7: a node added after compaction is caught up by snapshot",
          "[consensus][snapshot]") {
  Network net(3, Chunked);
  net.AddEmptyNode(4);
  REQUIRE(net.Elect(1));
  for (int i = 0; i < 20; ++i) REQUIRE(net.Propose(1, Value(i)).ok());
  net.Stabilize();
  for (NodeId id : {1, 2, 3}) net.Compact(id);
  REQUIRE(net.raw(1).ProposeConfChange(ConfChange{ConfChangeTransition::kAuto,
                                                  {{ConfChangeType::kAddLearner, 4}}, ""})
              .ok());
  net.TickAndStabilize(3);
  CHECK(net.node(4).applied.size() == 20);
  CHECK(net.node(4).conf_state.learners == std::vector<NodeId>{4});
  REQUIRE(net.Propose(1, "x").ok());
  net.Stabilize();
  CHECK(net.node(4).applied.size() == 21);
  REQUIRE(net.Check().ok());
}

TEST_CASE("snapshot 7: restart from a compacted log replays only the tail",
          "[consensus][snapshot]") {
  Network net(3);
  REQUIRE(net.Elect(1));
  for (int i = 0; i < 10; ++i) REQUIRE(net.Propose(1, Value(i)).ok());
  net.Stabilize();
  net.Compact(2);
  for (int i = 10; i < 15; ++i) REQUIRE(net.Propose(1, Value(i)).ok());
  net.Stabilize();
  net.Restart(2);
  CHECK(net.node(2).applied.size() == 10);  // from the snapshot
  net.Stabilize();
  CHECK(net.node(2).applied == net.node(1).applied);
  REQUIRE(net.Check().ok());
}

TEST_CASE("snapshot 7: a follower whose log already holds the snapshot index keeps its tail",
          "[consensus][snapshot]") {
  MemoryLogStorage s;
  s.SetConfState(ConfState{{1, 2}});
  REQUIRE(s.Append(test::MakeEntries({{1, 1}, {2, 1}, {3, 1}})).ok());
  s.SetHardState(HardState{1, kNoNode, 1});
  Config c;
  c.id = 2;
  c.storage = &s;
  auto rn = RawNode::New(c);
  REQUIRE(rn.ok());
  Message m;
  m.type = MessageType::kSnap;
  m.from = 1;
  m.to = 2;
  m.term = 1;
  m.snapshot.meta = SnapshotMeta{2, 1, ConfState{{1, 2}}};
  m.snapshot_done = true;
  REQUIRE((*rn)->Step(m).ok());
  CHECK((*rn)->GetStatus().hard_state.commit == 2);
  CHECK((*rn)->GetStatus().last_index == 3);
  auto msgs = test::DrainMessages(rn->get(), &s);
  REQUIRE(msgs.size() == 1);
  CHECK(msgs[0].type == MessageType::kAppResp);
  CHECK(msgs[0].index == 2);
}

TEST_CASE("snapshot 7: a snapshot with zero bytes of data is installed",
          "[consensus][snapshot]") {
  // Nothing was applied to the state machine yet, so its image is empty; a
  // member added after compaction must still install it (one empty chunk
  // with the done flag) and then follow the log.
  Network net(3, Chunked);
  net.AddEmptyNode(4);
  REQUIRE(net.Elect(1));
  for (NodeId id : {1, 2, 3}) net.Compact(id);
  REQUIRE(net.raw(1).GetStatus().first_index > 1);
  REQUIRE(net.raw(1).ProposeConfChange(ConfChange{ConfChangeTransition::kAuto,
                                                  {{ConfChangeType::kAddNode, 4}}, ""})
              .ok());
  net.TickAndStabilize(3);
  CHECK(net.raw(4).GetStatus().first_index > 1);  // came from the snapshot
  CHECK(net.node(4).conf_state.voters.size() == 4);
  REQUIRE(net.Propose(1, "x").ok());
  net.Stabilize();
  CHECK(net.node(4).applied == std::vector<std::string>{"x"});
  REQUIRE(net.Check().ok());
}

TEST_CASE("snapshot 7: a hard state commit below the snapshot is tolerated on restart",
          "[consensus][snapshot]") {
  MemoryLogStorage s;
  REQUIRE(s.ApplySnapshot(Snapshot{SnapshotMeta{10, 3, ConfState{{1, 2, 3}}}, "img"}).ok());
  s.SetHardState(HardState{3, kNoNode, 4});
  Config c;
  c.id = 1;
  c.storage = &s;
  auto rn = RawNode::New(c);
  REQUIRE(rn.ok());
  CHECK((*rn)->GetStatus().hard_state.commit == 10);
  // A commit beyond the log is corruption.
  s.SetHardState(HardState{3, kNoNode, 11});
  CHECK(RawNode::New(c).status().IsCorruption());
}

}  // namespace ringkv::consensus
