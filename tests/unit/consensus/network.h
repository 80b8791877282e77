// Network: an in-test harness that runs N in-memory Raft nodes and delivers
// their messages (NOT the simulator in tests/sim; no randomness unless a
// test injects it). Each node has a MemoryLogStorage standing in for its
// disk and a trivial state machine (the list of applied normal entries).
//
// A test drives it explicitly: Tick / Campaign / Propose, then Stabilize()
// delivers messages until nothing moves (bounded), honouring partitions and
// an optional drop filter. Check() runs the invariants checker.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "consensus/invariants.h"
#include "consensus/log_storage.h"
#include "consensus/raft.h"

namespace ringkv::consensus::test {

struct TestNode {
  std::unique_ptr<MemoryLogStorage> storage;
  std::unique_ptr<RawNode> node;
  Config config;
  std::vector<std::string> applied;  // state machine: applied normal entries
  uint64_t applied_index = 0;
  ConfState conf_state;
  std::vector<ReadState> read_states;
  std::vector<Message> sent;  // every message this node sent (for assertions)
};

class Network {
 public:
  using ConfigFn = std::function<void(Config*)>;

  // Nodes 1..n, all voters, plus `learners` extra learner ids after them.
  explicit Network(int n, ConfigFn fn = nullptr, int learners = 0);
  // Nodes with the given ids, which start empty (no conf state): they are
  // to be added later by conf change and receive a snapshot or the log.
  void AddEmptyNode(NodeId id);

  TestNode& node(NodeId id) { return nodes_.at(id); }
  RawNode& raw(NodeId id) { return *nodes_.at(id).node; }
  std::vector<NodeId> ids() const;

  // Handles every pending Ready and delivers messages until quiescent or
  // max_rounds delivery rounds passed. Returns the number of messages delivered.
  int Stabilize(int max_rounds = 500);
  // Handles the Ready of one node only (persist, queue messages, apply).
  void HandleReady(NodeId id);
  // Delivers one message (after filters). Returns false if dropped.
  bool Deliver(const Message& m);

  void Tick(NodeId id, int n = 1);
  void TickAll(int n = 1);
  // Ticks everyone one tick at a time, stabilizing in between.
  void TickAndStabilize(int n);
  void Campaign(NodeId id);
  // Elects `id` (campaign + stabilize) and checks it won.
  bool Elect(NodeId id);
  Status Propose(NodeId id, const std::string& data);
  NodeId Leader() const;  // the unique leader with the highest term, or 0

  // Partitions: messages between the two sides are dropped.
  void Isolate(NodeId id);
  void Cut(NodeId a, NodeId b);
  void Recover();  // heal all partitions and clear the drop filter
  std::function<bool(const Message&)> drop;  // return true to drop

  // Snapshot the state machine at the applied index and compact the log.
  void Compact(NodeId id);
  // Crash (drop volatile state) and restart from storage.
  void Restart(NodeId id);

  Status Check();
  int delivered() const { return delivered_; }
  uint64_t dropped() const { return dropped_; }

 private:
  void Persist(TestNode& n, const Ready& rd);
  void Apply(TestNode& n, const Ready& rd);
  bool Blocked(const Message& m) const;
  void StartNode(NodeId id);

  ConfigFn fn_;
  std::map<NodeId, TestNode> nodes_;
  std::deque<Message> queue_;  // bounded in Stabilize by max_rounds
  std::set<std::pair<NodeId, NodeId>> cuts_;
  ClusterInvariants invariants_;
  int delivered_ = 0;
  uint64_t dropped_ = 0;
};

// Helpers for tests that drive a single RawNode by hand.
// Persists the Ready into `storage`, advances and returns all messages.
std::vector<Message> DrainMessages(RawNode* rn, MemoryLogStorage* storage,
                                   std::vector<Entry>* committed = nullptr);
std::vector<Entry> MakeEntries(std::initializer_list<std::pair<uint64_t, uint64_t>> index_term);
std::string SnapshotOf(const std::vector<std::string>& applied);

}  // namespace ringkv::consensus::test
