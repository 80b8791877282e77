// ReplicaHost: three hosts in one process joined by an in-process loopback PeerLink
// (frames hop through each host's Post()), over a std::map state machine.
//
// Waits are bounded: futures with wait_for, and WaitFor(), which re-checks a
// condition every few milliseconds until a deadline and then fails the test.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "server/replication/replica_host.h"
#include "storage/base/coding.h"
#include "tests/unit/testing/temp_dir.h"

namespace ringkv::server::replication {
namespace {

using namespace std::chrono_literals;

// Sanitizer builds run several times slower, and the test machine is shared: the
// bounds below are generous, and every step that a leader change can interrupt is
// retried (a leader change under load is correct behaviour, not a failure).
constexpr auto kWait = 30s;
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr uint32_t kTickMs = 25;
#else
constexpr uint32_t kTickMs = 10;
#endif

// Runs attempt() until it returns true, at most `tries` times.
template <typename F>
bool Eventually(F attempt, int tries = 100) {
  for (int i = 0; i < tries; i++) {
    if (attempt()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(kTickMs));
  }
  return false;
}

// "SET k v" stores v under k and replies "OK"; "GET k" replies the value (or "").
// Thread-safe: applied on the replication thread, read by the test thread.
class MapStateMachine : public StateMachine {
 public:
  std::string Apply(GroupId group, uint64_t index, std::string_view command) override {
    std::lock_guard<std::mutex> l(mu_);
    G& g = groups_[group];
    RINGKV_CHECK_MSG(index > g.applied, "applied out of order");
    g.applied = index;
    g.history.emplace_back(command);
    if (command.substr(0, 4) == "SET ") {
      std::string_view rest = command.substr(4);
      size_t sp = rest.find(' ');
      g.kv[std::string(rest.substr(0, sp))] = std::string(rest.substr(sp + 1));
      return "OK";
    }
    if (command.substr(0, 4) == "GET ") {
      auto it = g.kv.find(std::string(command.substr(4)));
      return it == g.kv.end() ? "" : it->second;
    }
    return "ERR";
  }
  uint64_t AppliedIndex(GroupId group) override {
    std::lock_guard<std::mutex> l(mu_);
    return groups_[group].applied;
  }
  Result<std::string> TakeSnapshot(GroupId group) override {
    std::lock_guard<std::mutex> l(mu_);
    std::string out;
    for (auto& [k, v] : groups_[group].kv) {
      PutLengthPrefixed(&out, k);
      PutLengthPrefixed(&out, v);
    }
    snapshots_taken_++;
    return out;
  }
  Status Restore(GroupId group, uint64_t index, std::string_view snap) override {
    std::lock_guard<std::mutex> l(mu_);
    G& g = groups_[group];
    g = G{};
    g.applied = index;
    g.restored_at = index;
    while (!snap.empty()) {
      std::string_view k, v;
      if (!GetLengthPrefixed(&snap, &k) || !GetLengthPrefixed(&snap, &v)) {
        return Status::Corruption("bad snapshot");
      }
      g.kv[std::string(k)] = std::string(v);
    }
    restores_++;
    return Status::OK();
  }

  uint64_t Applied(GroupId group) {
    std::lock_guard<std::mutex> l(mu_);
    return groups_[group].applied;
  }
  std::map<std::string, std::string> Kv(GroupId group) {
    std::lock_guard<std::mutex> l(mu_);
    return groups_[group].kv;
  }
  std::vector<std::string> History(GroupId group) {
    std::lock_guard<std::mutex> l(mu_);
    return groups_[group].history;
  }
  uint64_t restores() {
    std::lock_guard<std::mutex> l(mu_);
    return restores_;
  }

 private:
  struct G {
    uint64_t applied = 0;
    uint64_t restored_at = 0;
    std::map<std::string, std::string> kv;
    std::vector<std::string> history;  // commands applied since the last restore
  };
  std::mutex mu_;
  std::map<GroupId, G> groups_;
  uint64_t snapshots_taken_ = 0;
  uint64_t restores_ = 0;
};

// Routes frames between the hosts of one test; a stopped host is unregistered first,
// so frames to it are dropped like on a dead connection.
class Registry {
 public:
  void Add(NodeId id, ReplicaHost* h) {
    std::lock_guard<std::mutex> l(mu_);
    hosts_[id] = h;
  }
  void Remove(NodeId id) {
    std::lock_guard<std::mutex> l(mu_);
    hosts_.erase(id);
  }
  // Cuts (or heals) every link to and from `id`.
  void Isolate(NodeId id, bool cut) {
    std::lock_guard<std::mutex> l(mu_);
    if (cut) {
      isolated_.insert(id);
    } else {
      isolated_.erase(id);
    }
  }
  void Deliver(NodeId from, NodeId to, uint8_t channel, std::string payload) {
    std::lock_guard<std::mutex> l(mu_);
    if (isolated_.count(from) || isolated_.count(to)) return;
    auto it = hosts_.find(to);
    if (it == hosts_.end()) return;
    ReplicaHost* h = it->second;
    h->Post([h, from, channel, p = std::move(payload)] { h->OnPeerFrame(from, channel, p); });
  }

 private:
  std::mutex mu_;
  std::map<NodeId, ReplicaHost*> hosts_;
  std::set<NodeId> isolated_;
};

class LoopbackLink : public PeerLink {
 public:
  LoopbackLink(Registry* r, NodeId self) : r_(r), self_(self) {}
  void Send(NodeId to, uint8_t channel, std::string payload) override {
    r_->Deliver(self_, to, channel, std::move(payload));
  }

 private:
  Registry* r_;
  NodeId self_;
};

struct ProposeResult {
  Status status;
  std::string reply;
  NodeId hint = 0;
};

template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds limit = kWait) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return pred();
}

class Cluster {
 public:
  // catch_up_entries: 0 compacts each log right up to its snapshot (what the
  // snapshot tests want to see); the server keeps 10000.
  explicit Cluster(int n, uint64_t snapshot_every = 100000, bool lease = true,
                   ReplicaHostOptions::Fsync fsync = ReplicaHostOptions::Fsync::kAlways,
                   uint64_t catch_up_entries = 0)
      : fsync_(fsync), catch_up_entries_(catch_up_entries) {
    char tmpl[] = "/tmp/repl5-test-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    root_ = tmpl;
    for (int i = 1; i <= n; i++) ids_.push_back(i);
    snapshot_every_ = snapshot_every;
    lease_ = lease;
    for (NodeId id : ids_) {
      sms_[id] = std::make_unique<MapStateMachine>();
      Start(id);
    }
  }
  ~Cluster() {
    for (NodeId id : ids_) Stop(id);
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }

  void Start(NodeId id) {
    ReplicaHostOptions o;
    o.self = id;
    o.dir = root_ + "/n" + std::to_string(id);
    o.fsync = fsync_;
    o.tick_ms = kTickMs;
    o.election_ticks = 10;
    o.lease_reads = lease_;
    o.snapshot_every_entries = snapshot_every_;
    o.snapshot_catch_up_entries = catch_up_entries_;
    o.snapshot_chunk_bytes = 4096;  // several chunks per snapshot
    for (NodeId p : ids_) {
      if (p != id) o.peers.push_back(p);
    }
    auto h = std::make_unique<ReplicaHost>(o, sms_[id].get());
    reg_.Add(id, h.get());
    Registry* reg = &reg_;
    Status s = h->Start([reg, id](uv_loop_t*) { return std::make_unique<LoopbackLink>(reg, id); });
    REQUIRE(s.ok());
    for (auto& [g, members] : groups_) h->EnsureGroup(g, members, {});
    hosts_[id] = std::move(h);
  }
  void Stop(NodeId id) {
    reg_.Remove(id);
    if (hosts_.count(id)) {
      hosts_[id]->Stop();
      hosts_.erase(id);
    }
  }
  bool Running(NodeId id) const { return hosts_.count(id) > 0; }
  // Replaces the node's state machine with an empty one (its engine lost everything).
  void WipeStateMachine(NodeId id) {
    REQUIRE(!Running(id));
    sms_[id] = std::make_unique<MapStateMachine>();
  }

  // Every running host runs the group; its initial voters are `voters` (default: all).
  void AddGroup(GroupId g, std::vector<NodeId> voters = {}) {
    if (voters.empty()) voters = ids_;
    groups_[g] = voters;
    for (auto& [id, h] : hosts_) h->EnsureGroup(g, voters, {});
  }

  // Counts `id` as a member of g from now on (after a membership change).
  void AddMember(GroupId g, NodeId id) { extra_members_[g].insert(id); }
  bool Member(GroupId g, NodeId id) const {
    const auto& v = groups_.at(g);
    return std::find(v.begin(), v.end(), id) != v.end() ||
           (extra_members_.count(g) && extra_members_.at(g).count(id));
  }

  // The leader every running member agrees on (the leader itself included), or 0.
  NodeId AgreedLeader(GroupId g) const {
    NodeId leader = 0;
    for (auto& [id, h] : hosts_) {
      if (groups_.count(g) && !Member(g, id)) continue;
      NodeId l = h->LeaderOf(g);
      if (l == 0 || (leader != 0 && l != leader)) return 0;
      leader = l;
    }
    return leader != 0 && hosts_.count(leader) ? leader : 0;
  }
  NodeId WaitLeader(GroupId g) {
    NodeId leader = 0;
    bool ok = WaitFor([&] { return (leader = AgreedLeader(g)) != 0; });
    REQUIRE(ok);
    return leader;
  }

  ProposeResult Propose(NodeId at, GroupId g, std::string cmd) {
    auto p = std::make_shared<std::promise<ProposeResult>>();
    auto f = p->get_future();
    host(at)->Propose(g, std::move(cmd), [p](Status s, std::string reply, NodeId hint) {
      p->set_value(ProposeResult{s, std::move(reply), hint});
    });
    REQUIRE(f.wait_for(kWait) == std::future_status::ready);
    return f.get();
  }
  // Proposes through whoever leads, following hints and retrying NotLeader.
  ProposeResult ProposeAnywhere(GroupId g, const std::string& cmd) {
    ProposeResult r;
    for (int attempt = 0; attempt < 200; attempt++) {
      NodeId at = AgreedLeader(g);
      if (at == 0) at = WaitLeader(g);
      r = Propose(at, g, cmd);
      if (r.status.ok() || !IsNotLeader(r.status)) return r;
      std::this_thread::sleep_for(10ms);  // an election is in progress
    }
    return r;
  }
  std::pair<Status, NodeId> Read(NodeId at, GroupId g, bool allow_follower) {
    auto p = std::make_shared<std::promise<std::pair<Status, NodeId>>>();
    auto f = p->get_future();
    host(at)->ReadBarrier(g, allow_follower, [p](Status s, NodeId hint) {
      p->set_value({s, hint});
    });
    REQUIRE(f.wait_for(kWait) == std::future_status::ready);
    return f.get();
  }

  ReplicaHost* host(NodeId id) { return hosts_.at(id).get(); }
  void Isolate(NodeId id, bool cut) { reg_.Isolate(id, cut); }
  MapStateMachine* sm(NodeId id) { return sms_.at(id).get(); }
  const std::vector<NodeId>& ids() const { return ids_; }

  // The highest index of g applied by any running node: once a write is acknowledged,
  // at least its index (the acknowledging leader applied it). A floor to wait for,
  // never the index of whoever leads now (a new leader may not have applied yet).
  uint64_t MaxApplied(GroupId g) {
    uint64_t m = 0;
    for (auto& [id, h] : hosts_) m = std::max(m, sms_[id]->Applied(g));
    return m;
  }

  // Every running node applied at least `index` of group g.
  bool AllApplied(GroupId g, uint64_t index) {
    for (auto& [id, h] : hosts_) {
      if (sms_[id]->Applied(g) < index) return false;
    }
    return true;
  }

 private:
  ReplicaHostOptions::Fsync fsync_;
  std::string root_;
  std::vector<NodeId> ids_;
  uint64_t snapshot_every_;
  uint64_t catch_up_entries_;  // entries the log keeps before each snapshot
  bool lease_;
  Registry reg_;
  std::map<NodeId, std::unique_ptr<MapStateMachine>> sms_;
  std::map<NodeId, std::unique_ptr<ReplicaHost>> hosts_;
  std::map<GroupId, std::vector<NodeId>> groups_;
  std::map<GroupId, std::set<NodeId>> extra_members_;
};

// Submits `n` proposals ("SET k<i> v<i>") to the leader without waiting in between,
// waits for all, then retries the ones a leader change failed through whoever leads.
// Returns how many were acknowledged OK; the acknowledged keys go to *acked.
int PipelinedWrites(Cluster* c, NodeId leader, GroupId g, int from, int n,
                    std::set<std::string>* acked, int* retried = nullptr) {
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, ok = 0;
  std::vector<int> failed;
  for (int i = from; i < from + n; i++) {
    std::string key = "k" + std::to_string(i);
    c->host(leader)->Propose(g, "SET " + key + " v" + std::to_string(i),
                             [&, key, i](Status s, std::string reply, NodeId) {
                               std::lock_guard<std::mutex> l(mu);
                               if (s.ok() && reply == "OK") {
                                 ok++;
                                 acked->insert(key);
                               } else if (IsNotLeader(s)) {
                                 failed.push_back(i);
                               }
                               done++;
                               cv.notify_all();
                             });
  }
  {
    std::unique_lock<std::mutex> l(mu);
    REQUIRE(cv.wait_for(l, kWait, [&] { return done == n; }));
  }
  std::sort(failed.begin(), failed.end());
  for (int i : failed) {
    std::string key = "k" + std::to_string(i);
    ProposeResult r = c->ProposeAnywhere(g, "SET " + key + " v" + std::to_string(i));
    if (r.status.ok()) {
      ok++;
      acked->insert(key);
    }
  }
  if (retried != nullptr) *retried = static_cast<int>(failed.size());
  return ok;
}

TEST_CASE("replica host: election, 1000 ordered proposals, follower rejection, reads",
          "[replication]") {
  Cluster c(3);
  c.AddGroup(1);
  const NodeId leader = c.WaitLeader(1);
  std::set<std::string> acked;
  int retried = 0;
  auto t0 = std::chrono::steady_clock::now();
  CHECK(PipelinedWrites(&c, leader, 1, 0, 1000, &acked, &retried) == 1000);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::steady_clock::now() - t0).count();
  // Informational only (no timing assertion): 3 replicas, fsync always, one process.
  WARN("1000 pipelined proposals: " << us / 1000 << " ms, "
       << (us > 0 ? 1000 * 1000000LL / us : 0) << " proposals/s, " << retried
       << " retried after a leader change");
  const uint64_t applied = c.MaxApplied(1);
  CHECK(applied >= 1000);
  REQUIRE(WaitFor([&] { return c.AllApplied(1, applied); }));
  const auto history = c.sm(leader)->History(1);
  // A proposal failed by a leader change may still have committed, then its retry
  // commits again: the history may hold a few duplicates, never less.
  CHECK(history.size() >= 1000);
  CHECK(history.size() <= 1000 + static_cast<size_t>(retried));
  for (NodeId id : c.ids()) {
    CHECK(c.sm(id)->History(1) == history);  // same commands, same order
    CHECK(c.sm(id)->Kv(1).size() == 1000);
  }

  // A follower refuses proposals and names the leader.
  CHECK(Eventually([&] {
    const NodeId l = c.WaitLeader(1);
    ProposeResult r = c.Propose(l == 1 ? 2 : 1, 1, "SET x y");
    return IsNotLeader(r.status) && r.hint == l && c.AgreedLeader(1) == l;
  }));
  // The leader's reply is the state machine's.
  ProposeResult r = c.ProposeAnywhere(1, "GET k7");
  REQUIRE(r.status.ok());
  CHECK(r.reply == "v7");

  // Read barriers: on the leader; on a follower (follower ReadIndex) after which the
  // follower's state holds every acknowledged write; refused on a follower otherwise.
  REQUIRE(c.ProposeAnywhere(1, "SET last 1").status.ok());
  CHECK(Eventually([&] {
    const NodeId l = c.WaitLeader(1);
    auto [s, h] = c.Read(l, 1, false);
    return s.ok() && h == l;
  }));
  CHECK(Eventually([&] {
    const NodeId f = c.WaitLeader(1) == 1 ? 2 : 1;
    auto [s, h] = c.Read(f, 1, true);
    // Linearizable: the write acknowledged before the barrier is visible.
    return s.ok() && c.sm(f)->Kv(1).count("last") == 1;
  }));
  CHECK(Eventually([&] {
    const NodeId l = c.WaitLeader(1);
    auto [s, h] = c.Read(l == 1 ? 2 : 1, 1, false);
    return IsNotLeader(s) && h == l;
  }));
  // Unknown group.
  CHECK(c.Propose(leader, 99, "SET a b").status.IsNotFound());
  // One proposal at a time: commit latency (two fsyncs in sequence plus the hops).
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; i++) REQUIRE(c.ProposeAnywhere(1, "SET seq 1").status.ok());
  us = std::chrono::duration_cast<std::chrono::microseconds>(
           std::chrono::steady_clock::now() - t0).count();
  WARN("sequential proposals: " << us / 50 << " us each");
  // Stats are published at the end of the loop pass that ran the callbacks.
  uint64_t syncs = 0, persisted = 0, ok = 0;
  CHECK(WaitFor([&] {
    syncs = persisted = ok = 0;
    for (NodeId id : c.ids()) {
      auto st = c.host(id)->stats();
      syncs += st.syncs;
      persisted += st.entries_persisted;
      ok += st.proposals_ok;
    }
    return ok >= 1052;
  }));
  CHECK(syncs > 0);
  CHECK(syncs < persisted);  // group commit: many entries per fsync
}

TEST_CASE("replica host: ReadIndex reads with quiescent groups (lease off)", "[replication]") {
  Cluster c(3, 100000, /*lease=*/false);
  c.AddGroup(1);
  c.WaitLeader(1);
  REQUIRE(c.ProposeAnywhere(1, "SET a 1").status.ok());
  for (NodeId id : c.ids()) {
    CHECK(Eventually([&] {
      auto [s, hint] = c.Read(id, 1, true);
      return s.ok() && c.sm(id)->Kv(1)["a"] == "1";
    }));
  }
  // After going quiet the group still serves writes and reads.
  std::this_thread::sleep_for(600ms);  // past quiesce_after_ticks (30 ticks): not a wait on a result
  REQUIRE(c.ProposeAnywhere(1, "SET a 2").status.ok());
  CHECK(Eventually([&] {
    const NodeId f = c.WaitLeader(1) == 1 ? 2 : 1;
    auto [s, hint] = c.Read(f, 1, true);
    return s.ok() && c.sm(f)->Kv(1)["a"] == "2";
  }));
}

TEST_CASE("replica host: the reads of one loop iteration share one ReadIndex request",
          "[replication]") {
  Cluster c(3);
  c.AddGroup(1);
  const NodeId leader = c.WaitLeader(1);
  REQUIRE(c.ProposeAnywhere(1, "SET a 1").status.ok());
  const NodeId f = leader == 1 ? 2 : 1;
  REQUIRE(Eventually([&] { return c.Read(f, 1, true).first.ok(); }));
  // The read's callback ran inside a loop pass whose stats are published at
  // the end of that pass; a task posted now runs in a later pass, so once it
  // ran the figures below include that read (reading them at once raced with
  // the publication and counted its ReadIndex request as one of the 100's).
  {
    std::promise<void> passed;
    c.host(f)->Post([&passed] { passed.set_value(); });
    REQUIRE(passed.get_future().wait_for(kWait) == std::future_status::ready);
  }
  const uint64_t batches0 = c.host(f)->stats().read_batches;
  const uint64_t ok0 = c.host(f)->stats().reads_ok;
  // 100 reads queued by one task on the replication thread reach it in one
  // drain of its task queue, so one iteration asks for all of them at once.
  constexpr int kReads = 100;
  auto results = std::make_shared<std::vector<std::promise<Status>>>(kReads);
  std::vector<std::future<Status>> futures;
  for (auto& p : *results) futures.push_back(p.get_future());
  ReplicaHost* h = c.host(f);
  h->Post([h, results] {
    for (auto& p : *results) {
      h->ReadBarrier(1, true, [&p](Status s, NodeId) { p.set_value(s); });
    }
  });
  for (auto& fut : futures) {
    REQUIRE(fut.wait_for(kWait) == std::future_status::ready);
    CHECK(fut.get().ok());
  }
  // Stats are published at the end of the loop pass that ran the callbacks.
  CHECK(WaitFor([&] { return h->stats().reads_ok >= ok0 + kReads; }));
  CHECK(h->stats().read_batches == batches0 + 1);
  CHECK(c.sm(f)->Kv(1)["a"] == "1");
}

TEST_CASE("replica host: leader stop, failover, no acknowledged write lost, restart catches up",
          "[replication]") {
  Cluster c(3);
  c.AddGroup(1);
  const NodeId old_leader = c.WaitLeader(1);
  std::set<std::string> acked;
  CHECK(PipelinedWrites(&c, old_leader, 1, 0, 300, &acked) == 300);
  c.Stop(old_leader);
  const auto t0 = std::chrono::steady_clock::now();
  const NodeId new_leader = c.WaitLeader(1);
  const auto failover = std::chrono::steady_clock::now() - t0;
  CHECK(new_leader != old_leader);
  CHECK(failover < 5s);
  WARN("failover took "
       << std::chrono::duration_cast<std::chrono::milliseconds>(failover).count() << " ms");
  // Writes resume (some may race a second election: follow the hints).
  for (int i = 300; i < 400; i++) {
    std::string key = "k" + std::to_string(i);
    ProposeResult r = c.ProposeAnywhere(1, "SET " + key + " v" + std::to_string(i));
    REQUIRE(r.status.ok());
    acked.insert(key);
  }
  const uint64_t applied = c.MaxApplied(1);
  REQUIRE(WaitFor([&] { return c.AllApplied(1, applied); }));
  for (NodeId id : c.ids()) {
    if (!c.Running(id)) continue;
    auto kv = c.sm(id)->Kv(1);
    for (const std::string& k : acked) CHECK(kv.count(k) == 1);
  }
  // The stopped node restarts from its directory and catches up.
  c.Start(old_leader);
  REQUIRE(WaitFor([&] { return c.AllApplied(1, applied); }));
  CHECK(c.sm(old_leader)->Kv(1) == c.sm(c.WaitLeader(1))->Kv(1));
  CHECK(c.sm(old_leader)->Kv(1).size() == 400);
  // Stopping a leader with proposals in flight: every callback runs, each either OK
  // (committed and applied) or Aborted / NotLeader; none is left hanging.
  const NodeId l3 = c.WaitLeader(1);
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, aborted = 0;
  for (int i = 0; i < 200; i++) {
    c.host(l3)->Propose(1, "SET late" + std::to_string(i) + " x",
                        [&](Status s, std::string, NodeId) {
                          std::lock_guard<std::mutex> l(mu);
                          done++;
                          aborted += s.IsAborted() && !IsNotLeader(s);
                          cv.notify_all();
                        });
  }
  c.Stop(l3);
  {
    std::unique_lock<std::mutex> l(mu);
    CHECK(cv.wait_for(l, kWait, [&] { return done == 200; }));
  }
  WARN(aborted << " of 200 in-flight proposals aborted by Stop");
  // A stopped host answers requests with Aborted.
  // (Propose on a stopped host is exercised through a fresh object below.)
  ReplicaHostOptions o;
  o.self = 9;
  MapStateMachine sm;
  ReplicaHost idle(o, &sm);
  Status got;
  idle.Propose(1, "SET a b", [&](Status s, std::string, NodeId) { got = s; });
  CHECK(got.IsAborted());
}

TEST_CASE("replica host: an isolated leader acknowledges nothing; its entries are overwritten",
          "[replication]") {
  Cluster c(3);
  c.AddGroup(1);
  const NodeId old_leader = c.WaitLeader(1);
  REQUIRE(c.Propose(old_leader, 1, "SET before 1").status.ok());
  c.Isolate(old_leader, true);
  // Proposals to the cut-off leader are appended to its log but can never commit.
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, ok = 0;
  for (int i = 0; i < 5; i++) {
    c.host(old_leader)->Propose(1, "SET lost" + std::to_string(i) + " x",
                                [&](Status s, std::string, NodeId) {
                                  std::lock_guard<std::mutex> l(mu);
                                  done++;
                                  ok += s.ok();
                                  cv.notify_all();
                                });
  }
  // The majority elects a new leader and writes; the old leader steps down (CheckQuorum),
  // which fails its pending proposals.
  NodeId new_leader = 0;
  REQUIRE(WaitFor([&] {
    for (NodeId id : c.ids()) {
      if (id != old_leader && c.host(id)->LeaderOf(1) == id) new_leader = id;
    }
    return new_leader != 0;
  }));
  REQUIRE(Eventually([&] {
    for (NodeId id : c.ids()) {
      if (id != old_leader && c.host(id)->LeaderOf(1) == id) new_leader = id;
    }
    return c.Propose(new_leader, 1, "SET during 1").status.ok();
  }));
  {
    std::unique_lock<std::mutex> l(mu);
    REQUIRE(cv.wait_for(l, kWait, [&] { return done == 5; }));
  }
  CHECK(ok == 0);
  c.Isolate(old_leader, false);
  REQUIRE(c.ProposeAnywhere(1, "SET after 1").status.ok());
  const uint64_t applied = c.MaxApplied(1);
  REQUIRE(WaitFor([&] { return c.AllApplied(1, applied); }));
  for (NodeId id : c.ids()) {
    auto kv = c.sm(id)->Kv(1);
    CHECK(kv.count("before") == 1);
    CHECK(kv.count("during") == 1);
    CHECK(kv.count("after") == 1);
    for (int i = 0; i < 5; i++) CHECK(kv.count("lost" + std::to_string(i)) == 0);
    CHECK(c.sm(id)->History(1) == c.sm(c.WaitLeader(1))->History(1));
  }
}

TEST_CASE("replica host: a lagging host catches up by snapshot; restart restores one",
          "[replication]") {
  Cluster c(3, /*snapshot_every=*/50);
  c.AddGroup(1);
  NodeId leader = c.WaitLeader(1);
  const NodeId lagger = leader == 3 ? 2 : 3;
  c.Stop(lagger);
  std::set<std::string> acked;
  CHECK(PipelinedWrites(&c, leader, 1, 0, 400, &acked) == 400);
  CHECK(WaitFor([&] {
    for (NodeId id : c.ids()) {
      if (c.Running(id) && c.host(id)->stats().snapshots_taken >= 1) return true;
    }
    return false;
  }));
  c.Start(lagger);
  const uint64_t applied = c.MaxApplied(1);
  REQUIRE(WaitFor([&] { return c.AllApplied(1, applied); }));
  CHECK(c.sm(lagger)->restores() >= 1);  // it could not replay: the log was compacted
  // Stats are published at the end of the loop pass that ran the callbacks.
  CHECK(WaitFor([&] { return c.host(lagger)->stats().snapshots_installed >= 1; }));
  CHECK(c.sm(lagger)->Kv(1) == c.sm(leader)->Kv(1));
  CHECK(c.sm(lagger)->Kv(1).size() == 400);

  // A node whose state machine lost everything restarts from its snapshot file plus
  // the log after it.
  const NodeId wiped = leader == 1 ? 2 : 1;
  c.Stop(wiped);
  c.WipeStateMachine(wiped);
  c.Start(wiped);
  leader = c.WaitLeader(1);
  REQUIRE(c.ProposeAnywhere(1, "SET after wipe").status.ok());
  const uint64_t applied2 = c.MaxApplied(1);
  REQUIRE(WaitFor([&] { return c.AllApplied(1, applied2); }));
  CHECK(c.sm(wiped)->restores() >= 1);
  CHECK(c.sm(wiped)->Kv(1) == c.sm(c.WaitLeader(1))->Kv(1));
  CHECK(c.sm(wiped)->Kv(1).size() == 401);
}

TEST_CASE("replica host: a host a little behind a snapshot catches up from the kept log",
          "[replication]") {
  // Without kept entries, a follower even one entry behind the snapshot index
  // needs the whole image; the log keeps snapshot_catch_up_entries before it.
  Cluster c(3, /*snapshot_every=*/50, /*lease=*/true, ReplicaHostOptions::Fsync::kAlways,
            /*catch_up_entries=*/40);
  c.AddGroup(1);
  NodeId leader = c.WaitLeader(1);
  std::set<std::string> acked;
  CHECK(PipelinedWrites(&c, leader, 1, 0, 30, &acked) == 30);
  const uint64_t before = c.MaxApplied(1);
  REQUIRE(WaitFor([&] { return c.AllApplied(1, before); }));
  const NodeId lagger = leader == 3 ? 2 : 3;
  c.Stop(lagger);
  CHECK(PipelinedWrites(&c, leader, 1, 30, 30, &acked) == 30);
  // The leader snapshots (applied >= 50) while the lagger is 30 entries behind.
  REQUIRE(WaitFor([&] { return c.host(leader)->stats().snapshots_taken >= 1; }));
  c.Start(lagger);
  const uint64_t applied = c.MaxApplied(1);
  REQUIRE(WaitFor([&] { return c.AllApplied(1, applied); }));
  CHECK(c.sm(lagger)->restores() == 0);
  CHECK(c.host(lagger)->stats().snapshots_installed == 0);
  CHECK(c.sm(lagger)->Kv(1) == c.sm(leader)->Kv(1));
  CHECK(c.sm(lagger)->Kv(1).size() == 60);
}

TEST_CASE("replica host: membership change adds a node that catches up by snapshot",
          "[replication]") {
  Cluster c(4, /*snapshot_every=*/50);
  c.AddGroup(1, {1, 2, 3});  // node 4 runs the group but is not a member yet
  NodeId leader = c.WaitLeader(1);
  CHECK(leader != 4);
  std::set<std::string> acked;
  CHECK(PipelinedWrites(&c, leader, 1, 0, 200, &acked) == 200);
  CHECK(c.sm(4)->Applied(1) == 0);
  // Snapshot files are written on the snapshot thread and the log is compacted
  // when one is installed: wait for that on every member, so node 4 cannot
  // find the early entries still in the leader's log.
  REQUIRE(WaitFor([&] {
    for (NodeId id : {1, 2, 3}) {
      if (c.host(id)->stats().snapshots_taken == 0) return false;
    }
    return true;
  }));
  auto change = [&](consensus::ConfChangeType type) {
    auto p = std::make_shared<std::promise<Status>>();
    auto f = p->get_future();
    consensus::ConfChange cc;
    cc.changes.push_back({type, 4});
    c.host(c.WaitLeader(1))->ProposeConfChange(1, cc, [p](Status s, NodeId) {
      p->set_value(s);
    });
    REQUIRE(f.wait_for(kWait) == std::future_status::ready);
    Status s = f.get();
    INFO(s.ToString());
    // Re-adding after a change that committed despite a NotLeader answer is a no-op.
    CHECK((s.ok() || IsNotLeader(s)));
    return s.ok();
  };
  REQUIRE(Eventually([&] { return change(consensus::ConfChangeType::kAddLearner); }));
  REQUIRE(Eventually([&] { return change(consensus::ConfChangeType::kAddNode); }));
  c.AddMember(1, 4);
  REQUIRE(c.ProposeAnywhere(1, "SET joined 1").status.ok());
  leader = c.WaitLeader(1);
  const uint64_t applied = c.MaxApplied(1);
  REQUIRE(WaitFor([&] { return c.sm(4)->Applied(1) >= applied; }));
  CHECK(c.sm(4)->restores() >= 1);  // the log it needed was compacted
  CHECK(c.sm(4)->Kv(1) == c.sm(c.WaitLeader(1))->Kv(1));
  // Node 4 is now a voter (one of four): stop one of the original three and keep
  // writing; 4 takes part in the majority.
  const NodeId victim = leader;
  c.Stop(victim);
  REQUIRE(c.ProposeAnywhere(1, "SET after 1").status.ok());
  const uint64_t applied2 = c.MaxApplied(1);
  REQUIRE(WaitFor([&] { return c.sm(4)->Applied(1) >= applied2; }));
  CHECK(c.sm(4)->Kv(1).count("after") == 1);
  // Followers refuse membership changes with the leader hint.
  CHECK(Eventually([&] {
    const NodeId l = c.WaitLeader(1);
    const NodeId follower = l == 4 ? (victim == 1 ? 2 : 1) : 4;
    auto p = std::make_shared<std::promise<std::pair<Status, NodeId>>>();
    auto f = p->get_future();
    consensus::ConfChange cc;
    cc.changes.push_back({consensus::ConfChangeType::kRemoveNode, victim});
    c.host(follower)->ProposeConfChange(1, cc, [p](Status s, NodeId hint) {
      p->set_value({s, hint});
    });
    REQUIRE(f.wait_for(kWait) == std::future_status::ready);
    auto [st, hint] = f.get();
    return IsNotLeader(st) && hint == l;
  }));
}

TEST_CASE("replica host: fsync batch and never replicate and recover after a clean stop",
          "[replication]") {
  for (auto mode : {ReplicaHostOptions::Fsync::kBatch, ReplicaHostOptions::Fsync::kNever}) {
    Cluster c(3, 100000, true, mode);
    c.AddGroup(1);
    const NodeId leader = c.WaitLeader(1);
    std::set<std::string> acked;
    CHECK(PipelinedWrites(&c, leader, 1, 0, 300, &acked) == 300);
    for (NodeId id : c.ids()) c.Stop(id);  // Stop syncs what is pending
    for (NodeId id : c.ids()) c.WipeStateMachine(id);
    for (NodeId id : c.ids()) c.Start(id);
    REQUIRE(c.ProposeAnywhere(1, "SET after 1").status.ok());
    const uint64_t applied = c.MaxApplied(1);
    REQUIRE(WaitFor([&] { return c.AllApplied(1, applied); }));
    for (NodeId id : c.ids()) CHECK(c.sm(id)->Kv(1).size() == 301);  // replayed from the WAL
  }
}

TEST_CASE("replica host: 64 groups on three hosts", "[replication]") {
  Cluster c(3);
  constexpr GroupId kGroups = 64;
  for (GroupId g = 1; g <= kGroups; g++) c.AddGroup(g);
  std::map<GroupId, NodeId> leaders;
  for (GroupId g = 1; g <= kGroups; g++) leaders[g] = c.WaitLeader(g);
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  std::vector<std::pair<GroupId, std::string>> failed;
  constexpr int kPerGroup = 20;
  for (int i = 0; i < kPerGroup; i++) {
    for (GroupId g = 1; g <= kGroups; g++) {
      std::string cmd = "SET g" + std::to_string(g) + "k" + std::to_string(i) + " x";
      c.host(leaders[g])->Propose(g, cmd, [&, g, cmd](Status s, std::string, NodeId) {
        std::lock_guard<std::mutex> l(mu);
        if (!s.ok()) failed.emplace_back(g, cmd);
        done++;
        cv.notify_all();
      });
    }
  }
  {
    std::unique_lock<std::mutex> l(mu);
    REQUIRE(cv.wait_for(l, kWait, [&] { return done == kGroups * kPerGroup; }));
  }
  // A slow (sanitizer) run may see an election; those proposals are retried.
  WARN(failed.size() << " proposals retried after a leader change");
  for (auto& [g, cmd] : failed) REQUIRE(c.ProposeAnywhere(g, cmd).status.ok());
  for (GroupId g = 1; g <= kGroups; g++) {
    leaders[g] = c.WaitLeader(g);
    const uint64_t applied = c.MaxApplied(g);
    REQUIRE(WaitFor([&] { return c.AllApplied(g, applied); }));
    for (NodeId id : c.ids()) {
      CHECK(c.sm(id)->Kv(g) == c.sm(leaders[g])->Kv(g));
      CHECK(c.sm(id)->Kv(g).size() == kPerGroup);
    }
  }
  uint64_t syncs = 0, persisted = 0;
  for (NodeId id : c.ids()) {
    syncs += c.host(id)->stats().syncs;
    persisted += c.host(id)->stats().entries_persisted;
  }
  WARN("64 groups: " << persisted << " entries persisted with " << syncs << " syncs");
  CHECK(syncs < persisted);
  // Restart all three: every group comes back from the WAL and serves again.
  for (NodeId id : c.ids()) c.Stop(id);
  for (NodeId id : c.ids()) c.Start(id);
  for (GroupId g = 1; g <= kGroups; g += 9) {
    REQUIRE(c.ProposeAnywhere(g, "SET again 1").status.ok());
  }
}

// A link with no peers: a one-node host never sends anything.
class NoPeersLink : public PeerLink {
 public:
  void Send(NodeId, uint8_t, std::string) override {}
};

TEST_CASE("replica host: tasks posted on its own thread run in order without waiting for a tick",
          "[replication]") {
  ringkv::testing::TempDir root("repl-local");
  MapStateMachine sm;
  ReplicaHostOptions o;
  o.self = 1;
  o.dir = root.path() + "/n1";
  // Ticks 5 s apart: a loop that blocked in poll between two of the chained
  // tasks would take 5 s per link of the chain.
  o.tick_ms = 5000;
  ReplicaHost host(o, &sm);
  REQUIRE(host.Start([](uv_loop_t*) { return std::make_unique<NoPeersLink>(); }).ok());
  REQUIRE(host.uv_loop() != nullptr);

  constexpr int kChain = 20;
  // Catch's assertions are not thread-safe: the replication thread counts
  // refused posts and the test thread checks the count.
  std::atomic<int> refused{0};
  std::mutex mu;
  std::vector<int> order;
  std::thread::id ran_on;
  auto record = [&](int i) {
    std::lock_guard<std::mutex> l(mu);
    order.push_back(i);
    ran_on = std::this_thread::get_id();
  };
  // Task i posts task i+1 from the replication thread; the first also posts
  // three more at once (101, 102, 103), which must run in that order.
  std::function<void(int)> link = [&](int i) {
    record(i);
    if (i == 1) {
      for (int k = 101; k <= 103; ++k) {
        if (!host.Post([&record, k] { record(k); })) refused++;
      }
    }
    if (i < kChain && !host.Post([&link, i] { link(i + 1); })) refused++;
  };
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(host.Post([&link] { link(1); }));
  CHECK(WaitFor([&] {
    std::lock_guard<std::mutex> l(mu);
    return std::count(order.begin(), order.end(), kChain) > 0;
  }, 20s));
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(took < 4s);  // less than one tick for the whole chain
  CHECK(refused.load() == 0);
  {
    std::lock_guard<std::mutex> l(mu);
    CHECK(ran_on != std::this_thread::get_id());
    std::vector<int> chain, burst;
    for (int v : order) (v > 100 ? burst : chain).push_back(v);
    CHECK(burst == std::vector<int>{101, 102, 103});
    REQUIRE(chain.size() == static_cast<size_t>(kChain));
    for (int k = 0; k < kChain; ++k) CHECK(chain[k] == k + 1);
  }
  // Posted from the prepare phase (as a loop thread sharing the loop does when
  // it flushes), after which the loop polls: the task must not wait there.
  struct PrepareProbe {
    uv_prepare_t handle;
    ReplicaHost* host;
    std::atomic<bool> refused{false};
    std::atomic<bool> ran{false};
    std::atomic<bool> closed{false};
  } probe;
  probe.host = &host;
  const auto start2 = std::chrono::steady_clock::now();
  REQUIRE(host.Post([&probe, &host] {
    uv_prepare_init(host.uv_loop(), &probe.handle);
    probe.handle.data = &probe;
    uv_prepare_start(&probe.handle, [](uv_prepare_t* h) {
      auto* p = static_cast<PrepareProbe*>(h->data);
      uv_prepare_stop(h);
      // Closed by the task, not here: a closing handle would itself keep
      // the next poll from blocking.
      const bool posted = p->host->Post([p] {
        p->ran = true;
        uv_close(reinterpret_cast<uv_handle_t*>(&p->handle),
                 [](uv_handle_t* c) { static_cast<PrepareProbe*>(c->data)->closed = true; });
      });
      if (!posted) p->refused = true;
    });
  }));
  CHECK(WaitFor([&] { return probe.ran.load() && probe.closed.load(); }, 20s));
  CHECK(std::chrono::steady_clock::now() - start2 < 4s);
  CHECK_FALSE(probe.refused.load());
  host.Stop();
  CHECK(host.uv_loop() == nullptr);
  CHECK_FALSE(host.Post([] {}));
}

}  // namespace
}  // namespace ringkv::server::replication
