// ClusterRouter, codecs and the node-list parser, against an in-process
// keyspace (Harness) and a fake ReplicationPort whose leaders, leases and
// forwarding the test controls. Proposals are applied synchronously through
// ClusterRouter::Apply, forwarded requests are executed on the same data (as
// the leader's node would), so every reply is real.
#include <catch2/catch.hpp>

#include <chrono>
#include <deque>
#include <map>
#include <random>
#include <set>

#include "harness.h"
#include "ring/key_slot.h"
#include "server/cluster/cluster_config.h"
#include "server/cluster/cluster_router.h"
#include "server/cluster/command_codec.h"
#include "server/cluster/local_exec.h"
#include "server/cluster/resp_reply.h"
#include "server/shard/keyspace.h"
#include "storage/base/coding.h"

namespace ringkv::server {
namespace {

using cluster::ClusterRouter;
using cluster::NodeId;
using cluster::ReplicationPort;
using testing::Harness;
using testing::HarnessOptions;

class FakePort : public ReplicationPort {
 public:
  explicit FakePort(Harness* h) : h_(h) {}
  NodeId self() const override { return 1; }
  uint32_t shard_count() const override { return h_->shards().shard_count(); }
  NodeId LeaderOf(uint32_t s) const override {
    auto it = leaders.find(s);
    return it == leaders.end() ? 1 : it->second;
  }
  bool HasReplica(uint32_t) const override { return true; }
  bool CanReadNow(uint32_t s, bool stale_ok) const override {
    return stale_ok || (lease && LeaderOf(s) == 1);
  }
  std::string ClientAddress(NodeId n) const override { return "127.0.0.1:" + std::to_string(7000 + n); }
  void Propose(uint32_t shard, std::string command, ProposeDone done) override {
    proposals.push_back(shard);
    proposed_commands.push_back(command);
    std::string reply;
    {
      Keyspace::ApplyScope scope;
      reply = router->Apply(command, shard);
    }
    // The entry committed, but the proposer hears "leadership lost" (as when
    // a leader steps down between the commit and its reply): the router retries.
    if (lose_outcomes > 0) {
      --lose_outcomes;
      return done(false, "", 0);
    }
    done(true, reply, 1);
  }
  void ReadBarrier(uint32_t, bool, BarrierDone done) override {
    ++barriers;
    done(true, 1);
  }
  void Forward(NodeId to, uint32_t, std::string request, ForwardDone done) override {
    cluster::ForwardRequest fr;
    REQUIRE(cluster::DecodeForwardRequest(request, &fr).ok());
    forwarded.push_back({to, std::vector<std::string>(fr.args.begin(), fr.args.end())});
    if (fr.args[0] == cluster::kReplicaAcks) {
      // Answered as the leader `to` would: through its router (the same code).
      return router->HandleForward(request, [done](std::string r) { done(true, std::move(r)); });
    }
    Keyspace::ApplyScope scope;
    done(true, cluster::ExecuteLocally(&h_->server(), fr.args, fr.resp, h_->now_ms()));
  }
  void RunAfter(uint32_t, std::function<void()> fn) override { delayed.push_back(std::move(fn)); }
  // Replicas holding the log: `acks` per shard (default 2); the leader's
  // last index is `last_index`, its term `term`.
  void ReplicaAcks(uint32_t shard, uint64_t t, uint64_t target, AcksDone done) override {
    acks_queries.push_back({shard, t, target});
    if (t != term || target == 0) target = last_index;
    auto it = acks.find(shard);
    done(true, term, target, it == acks.end() ? 2 : it->second);
  }

  std::map<uint32_t, uint32_t> acks;
  uint64_t term = 1;
  uint64_t last_index = 10;
  struct AcksQuery {
    uint32_t shard;
    uint64_t term;
    uint64_t target;
  };
  std::vector<AcksQuery> acks_queries;

  std::map<uint32_t, NodeId> leaders;
  bool lease = true;
  ClusterRouter* router = nullptr;
  std::vector<uint32_t> proposals;
  std::vector<std::string> proposed_commands;
  int lose_outcomes = 0;
  int barriers = 0;
  std::vector<std::pair<NodeId, std::vector<std::string>>> forwarded;
  std::deque<std::function<void()>> delayed;

 private:
  Harness* h_;
};

class Collect : public Deferrer {
 public:
  ReplyCallback Defer(bool) override {
    size_t i = replies.size();
    replies.emplace_back();
    return [this, i](std::string r) { replies[i] = std::move(r); };
  }
  std::weak_ptr<void> Liveness() const override { return alive; }
  std::vector<std::string> replies;
  std::shared_ptr<int> alive = std::make_shared<int>(0);  // reset: the client left
};

struct Fixture {
  explicit Fixture(cluster::RouterOptions o = {}) : h(HarnessOptions{8}), port(&h), router(&h.server(), &port, o) {
    port.router = &router;
  }
  // Routes like the dispatcher; a command the router leaves to the caller runs
  // here now. Returns the reply.
  std::string Run(std::vector<std::string> args) {
    std::vector<std::string_view> views(args.begin(), args.end());
    const CommandSpec* spec = h.server().commands->Find(views[0]);
    REQUIRE(spec != nullptr);
    std::string out;
    ReplyBuilder reply(&out, 2);
    Collect c;
    if (!router.Route(*spec, views, &h.client(), &reply, &c, h.now_ms())) {
      return cluster::ExecuteLocally(&h.server(), views, 2, h.now_ms());
    }
    for (int i = 0; i < 1000 && !port.delayed.empty(); ++i) {
      auto fn = std::move(port.delayed.front());
      port.delayed.pop_front();
      fn();
    }
    if (!out.empty()) return out;
    REQUIRE(c.replies.size() == 1);
    return c.replies[0];
  }
  uint32_t ShardOf(const std::string& key) { return h.shards().ShardOf(key); }
  // A key of `shard`.
  std::string KeyIn(uint32_t shard) {
    for (int i = 0;; ++i) {
      std::string k = "k" + std::to_string(i);
      if (ShardOf(k) == shard) return k;
    }
  }

  Harness h;
  FakePort port;
  ClusterRouter router;
};

TEST_CASE("replicated command and forward codecs round-trip and reject damage", "[cluster]") {
  std::vector<std::string_view> args{"set", "k", std::string_view("v\0x", 3)};
  std::string enc;
  cluster::EncodeReplicatedCommand(args, 3, 1234567, &enc);
  cluster::ReplicatedCommand rc;
  REQUIRE(cluster::DecodeReplicatedCommand(enc, &rc).ok());
  REQUIRE(rc.resp == 3);
  REQUIRE(rc.now_ms == 1234567);
  REQUIRE(rc.args == args);
  for (size_t cut = 0; cut < enc.size(); ++cut) {
    REQUIRE_FALSE(cluster::DecodeReplicatedCommand(std::string_view(enc).substr(0, cut), &rc).ok());
  }
  std::string bad = enc;
  bad[0] = 9;
  REQUIRE_FALSE(cluster::DecodeReplicatedCommand(bad, &rc).ok());

  std::string fwd;
  cluster::EncodeForwardRequest(2, cluster::kForwardReadonly, 1, args, &fwd, cluster::WriteId{7, 99});
  cluster::ForwardRequest fr;
  REQUIRE(cluster::DecodeForwardRequest(fwd, &fr).ok());
  REQUIRE(fr.args == args);
  REQUIRE(fr.hops == 1);
  REQUIRE(fr.flags == cluster::kForwardReadonly);
  REQUIRE(fr.id == cluster::WriteId{7, 99});
  for (size_t cut = 0; cut < fwd.size(); ++cut) {
    REQUIRE_FALSE(cluster::DecodeForwardRequest(std::string_view(fwd).substr(0, cut), &fr).ok());
  }
  // Version 1 (before write ids) still decodes, without an id.
  std::string v1 = std::string("\x01\x02\x00\x00", 4) + fwd.substr(20);
  REQUIRE(cluster::DecodeForwardRequest(v1, &fr).ok());
  REQUIRE(fr.args == args);
  REQUIRE(fr.id.empty());
  std::string rv1 = enc.substr(0, 10) + enc.substr(26);
  rv1[0] = 1;
  REQUIRE(cluster::DecodeReplicatedCommand(rv1, &rc).ok());
  REQUIRE(rc.args == args);
  REQUIRE(rc.id.empty());
  REQUIRE_FALSE(cluster::DecodeForwardRequest(fwd + "x", &fr).ok());
  REQUIRE_FALSE(cluster::DecodeForwardRequest(fwd.substr(0, 5), &fr).ok());
}

TEST_CASE("RESP reply readers", "[cluster]") {
  int64_t v = 0;
  REQUIRE(cluster::ParseIntegerReply(":-42\r\n", &v));
  REQUIRE(v == -42);
  REQUIRE_FALSE(cluster::ParseIntegerReply("+OK\r\n", &v));
  std::vector<std::string_view> items;
  REQUIRE(cluster::SplitArrayReply("*3\r\n$1\r\na\r\n$-1\r\n_\r\n", &items));
  REQUIRE(items == std::vector<std::string_view>{"$1\r\na\r\n", "$-1\r\n", "_\r\n"});
  REQUIRE_FALSE(cluster::SplitArrayReply("*2\r\n$1\r\na\r\n", &items));
  REQUIRE_FALSE(cluster::SplitArrayReply("*1\r\n$5\r\na\r\n", &items));
  std::string_view cursor;
  REQUIRE(cluster::SplitScanReply("*2\r\n$3\r\n123\r\n*2\r\n$1\r\na\r\n$2\r\nbc\r\n", &cursor, &items));
  CHECK(cursor == "123");
  REQUIRE(items.size() == 2);
  CHECK(items[1] == "$2\r\nbc\r\n");
  REQUIRE(cluster::SplitScanReply("*2\r\n$1\r\n0\r\n*0\r\n", &cursor, &items));
  CHECK(items.empty());
  CHECK_FALSE(cluster::SplitScanReply("*2\r\n$3\r\n12\r\n*0\r\n", &cursor, &items));
  CHECK_FALSE(cluster::SplitScanReply("*1\r\n$1\r\n0\r\n", &cursor, &items));
  CHECK_FALSE(cluster::SplitScanReply("-ERR x\r\n", &cursor, &items));
}

TEST_CASE("cluster.nodes parsing", "[cluster]") {
  auto ok = cluster::ParseNodeList("2@127.0.0.2:7002:17002  1@::1:7001:17001");
  REQUIRE(ok.ok());
  REQUIRE(ok->size() == 2);
  REQUIRE((*ok)[0].id == 1);
  REQUIRE((*ok)[0].host == "::1");
  REQUIRE((*ok)[1].peer_port == 17002);
  for (const char* bad : {"1@h:1", "0@h:1:2", "x@h:1:2", "1@h:0:2", "1@h:1:70000", "1@h:1:2 1@g:3:4", "@h:1:2"}) {
    INFO(bad);
    REQUIRE_FALSE(cluster::ParseNodeList(bad).ok());
  }
}

TEST_CASE("router: writes are proposed to the shard's group, reads served under the lease", "[cluster]") {
  Fixture f;
  REQUIRE(f.Run({"set", "a", "1"}) == "+OK\r\n");
  REQUIRE(f.port.proposals == std::vector<uint32_t>{f.ShardOf("a")});
  REQUIRE(f.Run({"get", "a"}) == "$1\r\n1\r\n");  // lease: ran here, no proposal
  REQUIRE(f.port.proposals.size() == 1);
  f.port.lease = false;
  REQUIRE(f.Run({"get", "a"}) == "$1\r\n1\r\n");
  REQUIRE(f.port.barriers == 1);
  // Relative TTLs are applied with the proposer's clock.
  REQUIRE(f.Run({"set", "t", "x", "px", "500"}) == "+OK\r\n");
  f.port.lease = true;
  REQUIRE(f.Run({"pttl", "t"}) == ":500\r\n");
}

TEST_CASE("router: another node's shard is forwarded, or -MOVED with redirect", "[cluster]") {
  Fixture f;
  const uint32_t s = f.ShardOf("b");
  f.port.leaders[s] = 2;
  REQUIRE(f.Run({"set", "b", "2"}) == "+OK\r\n");
  REQUIRE(f.port.forwarded.size() == 1);
  REQUIRE(f.port.forwarded[0].first == 2);
  REQUIRE(f.port.forwarded[0].second == std::vector<std::string>{"set", "b", "2"});
  REQUIRE(f.Run({"get", "b"}) == "$1\r\n2\r\n");
  REQUIRE(f.port.forwarded.size() == 2);

  cluster::RouterOptions o;
  o.redirect = true;
  Fixture r(o);
  r.port.leaders[r.ShardOf("b")] = 3;
  REQUIRE(r.Run({"get", "b"}) ==
          "-MOVED " + std::to_string(ring::KeySlot("b")) + " 127.0.0.1:7003\r\n");
  // READONLY clients read a local replica instead.
  r.h.client().readonly = true;
  REQUIRE(r.Run({"get", "b"}) == "$-1\r\n");
}

TEST_CASE("router: multi-key commands split across shards, atomic ones need one shard", "[cluster]") {
  Fixture f;
  std::string k0 = f.KeyIn(0), k1 = f.KeyIn(1), k2 = f.KeyIn(2);
  f.port.leaders[2] = 2;  // one part goes to another node
  REQUIRE(f.Run({"mset", k0, "a", k1, "b", k2, "c"}) == "+OK\r\n");
  REQUIRE(f.Run({"mget", k2, "nosuch", k0, k1}) ==
          "*4\r\n$1\r\nc\r\n$-1\r\n$1\r\na\r\n$1\r\nb\r\n");
  REQUIRE(f.Run({"exists", k0, k1, k2, k0}) == ":4\r\n");
  REQUIRE(f.Run({"del", k0, k2, "nosuch"}) == ":2\r\n");
  REQUIRE(f.Run({"rename", k1, k0}).rfind("-CROSSSLOT", 0) == 0);
  REQUIRE(f.Run({"msetnx", k0, "x", k2, "y"}).rfind("-CROSSSLOT", 0) == 0);
  std::string t1 = "{t}1", t2 = "{t}2";
  REQUIRE(f.Run({"set", t1, "v"}) == "+OK\r\n");
  REQUIRE(f.Run({"rename", t1, t2}) == "+OK\r\n");
}

TEST_CASE("router: keyless commands cover every shard", "[cluster]") {
  Fixture f;
  f.port.leaders[3] = 2;
  for (int i = 0; i < 200; ++i) REQUIRE(f.Run({"set", "key" + std::to_string(i), "v"}) == "+OK\r\n");
  REQUIRE(f.Run({"dbsize"}) == ":200\r\n");
  testing::RespValue keys;
  REQUIRE(testing::DecodeResp(f.Run({"keys", "key1*"}), &keys) > 0);
  REQUIRE(keys.elements.size() == 111);  // key1, key10-19, key100-199
  // SCAN walks the shards in cursor order, sees every key, and gives at most
  // COUNT keys a call, going on to the next shard (local or led elsewhere)
  // while fewer were found.
  std::set<std::string> seen;
  std::string cursor = "0";
  int calls = 0;
  for (int step = 0; step < 1000; ++step) {
    testing::RespValue v;
    REQUIRE(testing::DecodeResp(f.Run({"scan", cursor, "count", "7"}), &v) > 0);
    cursor = v.elements[0].str;
    // The hash engine scans whole buckets, so like Redis a call may give more
    // than COUNT: at most COUNT plus the rest of one bucket (the table's hash
    // seed varies per run). The call count below is the efficiency check.
    CHECK(v.elements[1].elements.size() <= 7 + 24);
    for (auto& e : v.elements[1].elements) seen.insert(e.str);
    calls++;
    if (cursor == "0") break;
  }
  REQUIRE(seen.size() == 200);
  CHECK(calls <= 200 / 7 + 8);
  // A small keyspace comes back in one call when COUNT covers it, as it would
  // from a single Redis; MATCH filters per shard; a bad COUNT is the shard's error.
  testing::RespValue all;
  REQUIRE(testing::DecodeResp(f.Run({"scan", "0", "count", "1000"}), &all) > 0);
  CHECK(all.elements[0].str == "0");
  CHECK(all.elements[1].elements.size() == 200);
  testing::RespValue matched;
  REQUIRE(testing::DecodeResp(f.Run({"scan", "0", "match", "key1*", "count", "1000"}), &matched) > 0);
  CHECK(matched.elements[0].str == "0");
  CHECK(matched.elements[1].elements.size() == 111);
  CHECK(f.Run({"scan", "0", "count", "0"}) == "-ERR syntax error\r\n");
  CHECK(f.Run({"scan", "0", "count", "x"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(f.Run({"scan", "99999999999999999", "count", "5"}) == "*2\r\n$1\r\n0\r\n*0\r\n");
  // A cursor that is not a number is Redis's error; one above 2^63 (Redis
  // reads cursors as unsigned) lies past the last shard.
  CHECK(f.Run({"scan", "abc"}) == "-ERR invalid cursor\r\n");
  CHECK(f.Run({"scan", "18446744073709551615"}) == "*2\r\n$1\r\n0\r\n*0\r\n");
  REQUIRE(f.Run({"randomkey"}).rfind("$", 0) == 0);
  f.port.proposals.clear();
  REQUIRE(f.Run({"flushall"}) == "+OK\r\n");
  REQUIRE(f.port.proposals.size() == 8 - 1);  // shard 3 went to node 2
  REQUIRE(f.Run({"dbsize"}) == ":0\r\n");
}

TEST_CASE("router: no leader until the wait ends gives -CLUSTERDOWN", "[cluster]") {
  cluster::RouterOptions o;
  o.leaderless_wait_ms = 0;
  Fixture f(o);
  f.port.leaders[f.ShardOf("z")] = 0;
  REQUIRE(f.Run({"set", "z", "1"}) == "-CLUSTERDOWN The cluster is down\r\n");
}

TEST_CASE("replicated mode: replicas delete expired keys only while applying", "[cluster]") {
  Fixture f;
  Keyspace::SetReplicated(true);
  REQUIRE(f.Run({"set", "e", "1", "px", "10"}) == "+OK\r\n");
  f.h.AdvanceMs(50);
  // A read hides the expired key but leaves it stored (DBSIZE counts stored keys).
  REQUIRE(f.Run({"get", "e"}) == "$-1\r\n");
  REQUIRE(f.Run({"dbsize"}) == ":1\r\n");
  // The leader's deletion entry removes it, with the entry's clock.
  std::string cmd;
  std::vector<std::string_view> del{cluster::kDelExpired, "e"};
  cluster::EncodeReplicatedCommand(del, 2, f.h.now_ms(), &cmd);
  {
    Keyspace::ApplyScope scope;
    REQUIRE(f.router.Apply(cmd) == ":1\r\n");
  }
  REQUIRE(f.Run({"dbsize"}) == ":0\r\n");
  Keyspace::SetReplicated(false);
}

}  // namespace
}  // namespace ringkv::server

namespace ringkv::server {

TEST_CASE("dedup window: first reply stands, forgets by count and entry clock", "[cluster]") {
  cluster::DedupWindow w;
  const cluster::WriteId a{1, 10}, b{2, 10};
  REQUIRE(w.Find(a) == nullptr);
  w.Remember(a, 1000, ":1\r\n");
  w.Remember(a, 1001, ":2\r\n");  // a repeat does not replace the first reply
  REQUIRE(w.Find(a) != nullptr);
  REQUIRE(*w.Find(a) == ":1\r\n");
  REQUIRE(w.Find(b) == nullptr);
  // Older than kMaxAgeMs by the newest entry's clock: forgotten.
  w.Remember(b, 1000 + cluster::DedupWindow::kMaxAgeMs + 1, "+OK\r\n");
  REQUIRE(w.Find(a) == nullptr);
  REQUIRE(w.Find(b) != nullptr);
  for (uint64_t i = 0; i < cluster::DedupWindow::kMaxEntries + 10; ++i) {
    w.Remember(cluster::WriteId{3, i}, 1000 + cluster::DedupWindow::kMaxAgeMs + 2, "+OK\r\n");
  }
  REQUIRE(w.size() == cluster::DedupWindow::kMaxEntries);
  REQUIRE(w.Find(cluster::WriteId{3, 0}) == nullptr);
  REQUIRE(w.Find(cluster::WriteId{3, cluster::DedupWindow::kMaxEntries + 9}) != nullptr);
}

// The window's contract, written the plainest way (a map and a queue), to
// compare the flat one against.
struct ModelWindow {
  std::map<std::pair<uint64_t, uint64_t>, std::string> replies;
  std::deque<std::pair<std::pair<uint64_t, uint64_t>, int64_t>> order;
  size_t bytes = 0;
  int64_t newest = INT64_MIN;
  void Remember(cluster::WriteId id, int64_t now_ms, const std::string& reply) {
    auto key = std::make_pair(id.origin, id.seq);
    if (!replies.emplace(key, reply).second) return;
    bytes += reply.size();
    order.push_back({key, now_ms});
    newest = std::max(newest, now_ms);
    while (!order.empty() && (order.size() > cluster::DedupWindow::kMaxEntries ||
                              bytes > cluster::DedupWindow::kMaxBytes ||
                              order.front().second < newest - cluster::DedupWindow::kMaxAgeMs)) {
      bytes -= replies[order.front().first].size();
      replies.erase(order.front().first);
      order.pop_front();
    }
  }
};

TEST_CASE("dedup window: agrees with a plain model over random writes", "[cluster]") {
  std::mt19937_64 rng(GENERATE(1, 2, 3));
  cluster::DedupWindow w;
  ModelWindow m;
  int64_t clock = 1'000'000;
  std::vector<cluster::WriteId> seen;
  for (int step = 0; step < 60000; ++step) {
    // Mostly new ids from a few origins, some retries of recent or old ones.
    cluster::WriteId id{1 + rng() % 3, rng()};
    if (!seen.empty() && rng() % 8 == 0) {
      id = seen[seen.size() - 1 - rng() % std::min<size_t>(seen.size(), 20000)];
    }
    seen.push_back(id);
    // The entry clock mostly advances; successive leaders may step it back.
    clock += static_cast<int64_t>(rng() % 5) - (rng() % 50 == 0 ? 40 : 0);
    if (rng() % 20000 == 0) clock += cluster::DedupWindow::kMaxAgeMs / 2;
    std::string reply = rng() % 100 == 0 ? std::string(rng() % 20000, 'x') : "+OK\r\n";
    w.Remember(id, clock, reply);
    m.Remember(id, clock, reply);
    REQUIRE(w.size() == m.replies.size());
    const cluster::WriteId probe = seen[rng() % seen.size()];
    const std::string* got = w.Find(probe);
    auto it = m.replies.find({probe.origin, probe.seq});
    REQUIRE((got != nullptr) == (it != m.replies.end()));
    if (got != nullptr) REQUIRE(*got == it->second);
  }
  // Same contents in the same order: the encoding matches the model's.
  std::string enc, want;
  w.EncodeTo(&enc);
  PutVarint64(&want, m.order.size());
  for (const auto& [key, ms] : m.order) {
    PutFixed64(&want, key.first);
    PutFixed64(&want, key.second);
    PutFixed64(&want, static_cast<uint64_t>(ms));
    PutLengthPrefixed(&want, m.replies[key]);
  }
  REQUIRE(enc == want);
}

TEST_CASE("dedup window: survives its snapshot encoding; bad bytes are refused", "[cluster]") {
  cluster::DedupWindow w;
  for (uint64_t i = 0; i < 300; ++i) {
    w.Remember(cluster::WriteId{7, i}, -5 + static_cast<int64_t>(i), ":" + std::to_string(i) + "\r\n");
  }
  std::string enc;
  w.EncodeTo(&enc);
  cluster::DedupWindow back;
  REQUIRE(back.DecodeFrom(enc).ok());
  REQUIRE(back.size() == 300);
  for (uint64_t i = 0; i < 300; ++i) {
    const std::string* r = back.Find(cluster::WriteId{7, i});
    REQUIRE(r != nullptr);
    CHECK(*r == ":" + std::to_string(i) + "\r\n");
  }
  // The decoded window forgets like the original: same order and clocks.
  // Clock 100 + max age forgets the writes with clocks below 100: ids 0..104.
  back.Remember(cluster::WriteId{8, 1}, 100 + cluster::DedupWindow::kMaxAgeMs, "+OK\r\n");
  w.Remember(cluster::WriteId{8, 1}, 100 + cluster::DedupWindow::kMaxAgeMs, "+OK\r\n");
  CHECK(w.size() == 300 - 105 + 1);
  CHECK(back.size() == w.size());
  CHECK(back.Find(cluster::WriteId{7, 104}) == nullptr);
  CHECK(back.Find(cluster::WriteId{7, 105}) != nullptr);
  // Empty input is an empty window (a version-1 snapshot has none).
  REQUIRE(back.DecodeFrom("").ok());
  CHECK(back.size() == 0);
  // Every truncation and a trailing byte are Corruption, and leave it empty.
  for (size_t cut : {size_t{1}, size_t{10}, enc.size() / 2, enc.size() - 1}) {
    cluster::DedupWindow bad;
    CHECK(bad.DecodeFrom(std::string_view(enc).substr(0, cut)).IsCorruption());
    CHECK(bad.size() == 0);
  }
  cluster::DedupWindow bad;
  CHECK(bad.DecodeFrom(enc + "x").IsCorruption());
  CHECK(bad.size() == 0);
}

TEST_CASE("router: a retried write whose first attempt committed is applied once", "[cluster]") {
  Fixture f;
  REQUIRE(f.Run({"set", "n", "10"}) == "+OK\r\n");
  f.port.lose_outcomes = 2;  // two attempts commit but report failure
  REQUIRE(f.Run({"incr", "n"}) == ":11\r\n");
  REQUIRE(f.port.proposed_commands.size() == 4);  // set + 3 attempts of incr
  // The same write id on every attempt, and a new one for the next write.
  cluster::ReplicatedCommand c1, c2, c3;
  REQUIRE(cluster::DecodeReplicatedCommand(f.port.proposed_commands[1], &c1).ok());
  REQUIRE(cluster::DecodeReplicatedCommand(f.port.proposed_commands[3], &c3).ok());
  REQUIRE(!c1.id.empty());
  REQUIRE(c1.id == c3.id);
  REQUIRE(f.Run({"get", "n"}) == "$2\r\n11\r\n");
  REQUIRE(f.Run({"incr", "n"}) == ":12\r\n");
  REQUIRE(cluster::DecodeReplicatedCommand(f.port.proposed_commands.back(), &c2).ok());
  REQUIRE(!(c2.id == c1.id));
}

// Runs the port's delayed tasks (WAIT's polls) until `c` holds a reply, for
// at most `limit_ms` of real time; "" if none came.
std::string PumpWait(Fixture& f, Collect& c, int64_t limit_ms = 5000) {
  const auto start = std::chrono::steady_clock::now();
  while (c.replies.empty() || c.replies[0].empty()) {
    if (std::chrono::steady_clock::now() - start > std::chrono::milliseconds(limit_ms)) return "";
    if (f.port.delayed.empty()) return "";
    auto fn = std::move(f.port.delayed.front());
    f.port.delayed.pop_front();
    fn();
  }
  return c.replies[0];
}

// Runs `n` rounds of delayed tasks (each WAIT round schedules the next).
void RunRounds(Fixture& f, int n) {
  for (int i = 0; i < n && !f.port.delayed.empty(); ++i) {
    auto fn = std::move(f.port.delayed.front());
    f.port.delayed.pop_front();
    fn();
  }
}

TEST_CASE("router: WAIT counts the replicas of the shards the connection wrote", "[cluster]") {
  Fixture f;
  const std::string a = f.KeyIn(1), b = f.KeyIn(5);
  REQUIRE(f.Run({"set", a, "1"}) == "+OK\r\n");
  REQUIRE(f.Run({"mset", b, "1", a, "2"}) == "+OK\r\n");
  f.port.acks[1] = 2;
  f.port.acks[5] = 1;
  Collect c;
  f.router.Wait(1, 0, &f.h.client(), &c);
  REQUIRE(PumpWait(f, c) == ":1\r\n");
  REQUIRE(f.port.acks_queries.size() == 2);  // shards 1 and 5 only, once each
  for (const auto& q : f.port.acks_queries) CHECK((q.shard == 1 || q.shard == 5));

  // Two replicas wanted: it keeps asking until shard 5's second replica holds
  // the index the first answer fixed, even as the leader's log grows.
  f.port.acks_queries.clear();
  Collect c2;
  f.router.Wait(2, 0, &f.h.client(), &c2);
  RunRounds(f, 4);
  REQUIRE(c2.replies.size() == 1);
  REQUIRE(c2.replies[0].empty());
  f.port.last_index = 20;
  RunRounds(f, 2);
  f.port.acks[5] = 2;
  REQUIRE(PumpWait(f, c2) == ":2\r\n");
  size_t later = 0;
  for (size_t i = 2; i < f.port.acks_queries.size(); ++i, ++later) {
    CHECK(f.port.acks_queries[i].target == 10);  // fixed by the first round
    CHECK(f.port.acks_queries[i].term == 1);
  }
  CHECK(later >= 6);
  // Shard 1 reached two replicas in the first round and was not asked again.
  for (size_t i = 2; i < f.port.acks_queries.size(); ++i) CHECK(f.port.acks_queries[i].shard == 5);
}

TEST_CASE("router: WAIT asks remote leaders, resets its target on a new term, times out",
          "[cluster]") {
  Fixture f;
  const std::string a = f.KeyIn(2), b = f.KeyIn(3);
  REQUIRE(f.Run({"set", a, "1"}) == "+OK\r\n");
  f.port.leaders[3] = 2;
  REQUIRE(f.Run({"set", b, "1"}) == "+OK\r\n");  // forwarded to node 2
  f.port.forwarded.clear();
  f.port.acks[2] = 2;
  f.port.acks[3] = 2;
  Collect c;
  f.router.Wait(2, 1000, &f.h.client(), &c);
  REQUIRE(PumpWait(f, c) == ":2\r\n");
  // Shard 3's question went to its leader, node 2, as a forward.
  REQUIRE(f.port.forwarded.size() == 1);
  CHECK(f.port.forwarded[0].first == 2);
  CHECK(f.port.forwarded[0].second ==
        std::vector<std::string>{std::string(cluster::kReplicaAcks), "3", "0", "0"});

  // A leader change: the target from the old term is dropped for the new
  // leader's last index. Meanwhile shard 2 has no leader and counts 0, and
  // shard 3 is short of its replica, so both are asked again every round.
  f.port.acks[3] = 0;
  f.port.leaders[2] = cluster::kNoNode;
  f.port.acks_queries.clear();
  Collect c2;
  const auto start = std::chrono::steady_clock::now();
  f.router.Wait(1, 40, &f.h.client(), &c2);
  RunRounds(f, 2);
  f.port.term = 2;
  f.port.last_index = 7;
  REQUIRE(PumpWait(f, c2) == ":0\r\n");  // shard 2 never answered: timed out
  // The deadline is kept in whole milliseconds, so it may end up to 1 ms early.
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(39));
  bool saw_new_term = false;
  for (const auto& q : f.port.acks_queries) {
    if (q.term == 2) saw_new_term = true;
  }
  CHECK(saw_new_term);

  // Once shard 2 has a leader again, one replica of each holds the writes.
  f.port.leaders[2] = 1;
  f.port.acks[3] = 1;
  Collect c3;
  f.router.Wait(1, 40, &f.h.client(), &c3);
  REQUIRE(PumpWait(f, c3) == ":1\r\n");
}

TEST_CASE("router: WAIT without writes counts over every shard; a bad acks query is refused",
          "[cluster]") {
  Fixture f;
  ClientState fresh;
  f.port.acks[6] = 1;
  Collect c;
  f.router.Wait(0, 0, &fresh, &c);
  REQUIRE(PumpWait(f, c) == ":1\r\n");
  CHECK(f.port.acks_queries.size() == f.h.shards().shard_count());

  // Timeout 0 and a count nobody reaches: it polls until the client leaves.
  Collect blocked;
  f.router.Wait(3, 0, &fresh, &blocked);
  RunRounds(f, 50);
  REQUIRE(blocked.replies[0].empty());
  REQUIRE(!f.port.delayed.empty());
  blocked.alive.reset();
  RunRounds(f, 2);
  CHECK(f.port.delayed.empty());  // no more polling

  std::string reply;
  const std::string_view bad[] = {cluster::kReplicaAcks, "999999", "0", "0"};
  std::string payload;
  cluster::EncodeForwardRequest(2, 0, 1, bad, &payload);
  f.router.HandleForward(payload, [&](std::string r) { reply = std::move(r); });
  CHECK(reply == "-ERR bad replica acks query\r\n");
}

TEST_CASE("router: writes over cluster.max-write-bytes are refused before Raft", "[cluster]") {
  cluster::RouterOptions o;
  o.max_write_bytes = 1000;
  Fixture f(o);
  const std::string big(995, 'v');
  REQUIRE(f.Run({"set", "k", big}) == "+OK\r\n");  // 3 + 1 + 995 bytes
  REQUIRE(f.Run({"set", "k", big + "xx"}) ==
          "-ERR write of 1001 bytes exceeds cluster.max-write-bytes (1000)\r\n");
  REQUIRE(f.Run({"mset", "a", big, "b", "c"}).rfind("-ERR write of", 0) == 0);
  REQUIRE(f.port.proposals.size() == 1);  // only the first SET reached Raft
  // Reads are not limited; SETRANGE is, by the size of what it builds.
  REQUIRE(f.Run({"get", "k"}).size() > 995);
  REQUIRE(f.Run({"setrange", "r", "995", "abcdef"}) ==
          "-ERR string exceeds maximum allowed size (cluster.max-write-bytes)\r\n");
  REQUIRE(f.Run({"setrange", "r", "990", "abcde"}) == ":995\r\n");
  REQUIRE(f.Run({"setrange", "r", "5000", ""}) == ":995\r\n");  // writes nothing
  REQUIRE(f.Run({"setrange", "r", "-1", "x"}) == "-ERR offset is out of range\r\n");
}

}  // namespace ringkv::server
