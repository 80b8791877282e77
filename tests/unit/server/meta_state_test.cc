// MetaState (server/cluster/meta_state.h): the meta group's replicated table.
#include "server/cluster/meta_state.h"

#include <catch2/catch.hpp>

#include <random>

#include "storage/base/coding.h"
#include "storage/base/crc32c.h"

namespace ringkv::server::cluster {
namespace {

MetaNode Node(uint64_t id, uint32_t weight = 64) {
  return MetaNode{id, "127.0.0.1", 7000 + static_cast<uint32_t>(id),
                  17000 + static_cast<uint32_t>(id), weight, ring::NodeState::kUp};
}

MetaState ThreeNodes() {
  auto r = MetaState::FromConfig(64, 3, {Node(3), Node(1), Node(2)});
  REQUIRE(r.ok());
  return std::move(r).value();
}

TEST_CASE("meta state: empty table encodes and decodes", "[meta]") {
  MetaState empty;
  CHECK(empty.empty());
  auto d = MetaState::Decode(empty.Encode());
  REQUIRE(d.ok());
  CHECK(d->empty());
  CHECK(*d == empty);
}

TEST_CASE("meta state: FromConfig sorts nodes and validates", "[meta]") {
  MetaState m = ThreeNodes();
  CHECK(m.epoch() == 1);
  REQUIRE(m.nodes().size() == 3);
  CHECK(m.nodes()[0].id == 1);
  CHECK(m.nodes()[2].id == 3);
  CHECK(m.Find(2) != nullptr);
  CHECK(m.Find(4) == nullptr);
  CHECK_FALSE(MetaState::FromConfig(0, 3, {Node(1)}).ok());       // no shards
  CHECK_FALSE(MetaState::FromConfig(8, 0, {Node(1)}).ok());       // R = 0
  CHECK_FALSE(MetaState::FromConfig(8, 1, {}).ok());              // no nodes
  CHECK_FALSE(MetaState::FromConfig(8, 1, {Node(1), Node(1)}).ok());  // duplicate
  CHECK_FALSE(MetaState::FromConfig(8, 1, {Node(0)}).ok());       // id 0
  CHECK_FALSE(MetaState::FromConfig(8, 1, {Node(1, 0)}).ok());    // weight 0
  MetaNode bad_port = Node(1);
  bad_port.peer_port = 70000;
  CHECK_FALSE(MetaState::FromConfig(8, 1, {bad_port}).ok());
}

TEST_CASE("meta state: encode/decode round trip", "[meta]") {
  MetaState m = ThreeNodes();
  REQUIRE(m.ApplyMetaCommand(EncodeSetWeightCommand(2, 128)).result == MetaResult::kApplied);
  REQUIRE(m.ApplyMetaCommand(EncodeSetNodeStateCommand(3, ring::NodeState::kLeaving)).result ==
          MetaResult::kApplied);
  std::string bytes = m.Encode();
  auto d = MetaState::Decode(bytes);
  REQUIRE(d.ok());
  CHECK(*d == m);
  CHECK(d->epoch() == 3);
  CHECK(d->shard_count() == 64);
  CHECK(d->replicas() == 3);
  CHECK(d->Find(2)->weight == 128);
  CHECK(d->Find(3)->state == ring::NodeState::kLeaving);
  CHECK(d->Encode() == bytes);  // deterministic bytes
}

TEST_CASE("meta state: init applies once, epoch becomes 1, later inits are ignored", "[meta]") {
  MetaState table = ThreeNodes();
  MetaState m;
  MetaReply r = m.ApplyMetaCommand(EncodeInitCommand(table));
  CHECK(r.result == MetaResult::kApplied);
  CHECK(r.epoch == 1);
  CHECK(m == table);

  // Every node proposes init from its own config; the second one (even a
  // different table) changes nothing.
  REQUIRE(m.ApplyMetaCommand(EncodeSetWeightCommand(1, 32)).result == MetaResult::kApplied);
  MetaState before = m;
  auto other = MetaState::FromConfig(8, 1, {Node(9)});
  REQUIRE(other.ok());
  r = m.ApplyMetaCommand(EncodeInitCommand(*other));
  CHECK(r.result == MetaResult::kIgnored);
  CHECK(r.epoch == 2);
  CHECK(m == before);
  r = m.ApplyMetaCommand(EncodeInitCommand(table));
  CHECK(r.result == MetaResult::kIgnored);
  CHECK(m == before);

  // An init carrying an empty table is rejected, not an initialization.
  MetaState fresh;
  CHECK(fresh.ApplyMetaCommand(EncodeInitCommand(MetaState())).result == MetaResult::kRejected);
  CHECK(fresh.empty());
}

TEST_CASE("meta state: set-node-state and set-weight bump the epoch", "[meta]") {
  MetaState m = ThreeNodes();
  MetaReply r = m.ApplyMetaCommand(EncodeSetNodeStateCommand(2, ring::NodeState::kDown));
  CHECK(r.result == MetaResult::kApplied);
  CHECK(r.epoch == 2);
  CHECK(m.epoch() == 2);
  CHECK(m.Find(2)->state == ring::NodeState::kDown);
  CHECK(r.message == "node 2 state down");

  r = m.ApplyMetaCommand(EncodeSetWeightCommand(3, 100));
  CHECK(r.result == MetaResult::kApplied);
  CHECK(m.epoch() == 3);
  CHECK(m.Find(3)->weight == 100);

  // Same value: nothing changes, no epoch bump.
  CHECK(m.ApplyMetaCommand(EncodeSetWeightCommand(3, 100)).result == MetaResult::kIgnored);
  CHECK(m.ApplyMetaCommand(EncodeSetNodeStateCommand(2, ring::NodeState::kDown)).result ==
        MetaResult::kIgnored);
  CHECK(m.epoch() == 3);

  // Unknown node, weight 0, commands before init: rejected, state unchanged.
  MetaState before = m;
  CHECK(m.ApplyMetaCommand(EncodeSetWeightCommand(7, 10)).result == MetaResult::kRejected);
  CHECK(m.ApplyMetaCommand(EncodeSetWeightCommand(1, 0)).result == MetaResult::kRejected);
  CHECK(m == before);
  MetaState empty;
  CHECK(empty.ApplyMetaCommand(EncodeSetWeightCommand(1, 10)).result == MetaResult::kRejected);
  CHECK(empty.empty());
}

TEST_CASE("meta state: corrupt tables are Corruption, never a crash", "[meta]") {
  MetaState m = ThreeNodes();
  const std::string good = m.Encode();
  CHECK(MetaState::Decode("").status().IsCorruption());
  CHECK(MetaState::Decode(std::string_view("\x01", 1)).status().IsCorruption());
  // Every truncation and every single-bit flip is caught (the checksum
  // covers every byte; the checksum bytes themselves then mismatch).
  for (size_t len = 0; len < good.size(); ++len) {
    CHECK(MetaState::Decode(std::string_view(good).substr(0, len)).status().IsCorruption());
  }
  for (size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      CHECK(MetaState::Decode(bad).status().IsCorruption());
    }
  }
  CHECK(MetaState::Decode(good + "x").status().IsCorruption());
}

TEST_CASE("meta state: well-checksummed but invalid tables are Corruption", "[meta]") {
  // A table whose checksum is right but whose content breaks the invariants
  // (two nodes with id 5) is still refused.
  std::string body;
  body.push_back(1);  // version
  body.push_back(1);  // epoch
  body.push_back(8);  // S
  body.push_back(1);  // R
  body.push_back(2);  // two nodes
  for (int i = 0; i < 2; ++i) {
    body.push_back(5);  // id
    body.push_back(1);  // host length
    body.push_back('h');
    body.push_back(10);  // port
    body.push_back(11);  // peer port
    body.push_back(1);   // weight
    body.push_back(0);   // up
  }
  auto seal = [](std::string b) {
    PutFixed32(&b, crc32c::Mask(crc32c::Value(b)));
    return b;
  };
  CHECK(MetaState::Decode(seal(body)).status().IsCorruption());
  body[12] = 6;  // second id 6: now valid
  auto ok = MetaState::Decode(seal(body));
  REQUIRE(ok.ok());
  CHECK(ok->nodes().size() == 2);
  body[10] = 0;  // first node weight 0
  CHECK(MetaState::Decode(seal(body)).status().IsCorruption());

  // Random garbage (sealed or not) never crashes the parser, never decodes
  // to an invalid table, and as a command never changes the state unless
  // it applied.
  std::mt19937_64 rng(42);
  for (int i = 0; i < 4000; ++i) {
    std::string junk(rng() % 64, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    if (i % 2 == 1) junk = seal(junk);
    auto d = MetaState::Decode(junk);
    if (d.ok()) CHECK(d->Validate().ok());
    MetaState target = ThreeNodes();
    MetaState before = target;
    MetaReply r = target.ApplyMetaCommand(junk);
    if (r.result != MetaResult::kApplied) CHECK(target == before);
    CHECK(target.Validate().ok());
  }
}

TEST_CASE("meta state: malformed commands are rejected", "[meta]") {
  MetaState m = ThreeNodes();
  MetaState before = m;
  std::string cmd = EncodeSetWeightCommand(2, 99);
  CHECK(m.ApplyMetaCommand("").result == MetaResult::kRejected);
  CHECK(m.ApplyMetaCommand(cmd.substr(0, 1)).result == MetaResult::kRejected);
  CHECK(m.ApplyMetaCommand(cmd.substr(0, cmd.size() - 1)).result == MetaResult::kRejected);
  CHECK(m.ApplyMetaCommand(cmd + "x").result == MetaResult::kRejected);
  std::string bad_version = cmd;
  bad_version[0] = 9;
  CHECK(m.ApplyMetaCommand(bad_version).result == MetaResult::kRejected);
  std::string bad_kind = cmd;
  bad_kind[1] = 77;
  CHECK(m.ApplyMetaCommand(bad_kind).result == MetaResult::kRejected);
  std::string bad_state = EncodeSetNodeStateCommand(2, ring::NodeState::kDown);
  bad_state.back() = 9;
  CHECK(m.ApplyMetaCommand(bad_state).result == MetaResult::kRejected);
  std::string bad_init = EncodeInitCommand(ThreeNodes());
  bad_init[5] ^= 0x10;
  MetaState empty;
  CHECK(empty.ApplyMetaCommand(bad_init).result == MetaResult::kRejected);
  CHECK(empty.empty());
  CHECK(m == before);
}

TEST_CASE("meta state: differences with the config are named", "[meta]") {
  MetaState config = ThreeNodes();
  MetaState replicated = ThreeNodes();
  CHECK(DescribeDifferences(replicated, config).empty());
  REQUIRE(replicated.ApplyMetaCommand(EncodeSetWeightCommand(3, 128)).result ==
          MetaResult::kApplied);
  CHECK(DescribeDifferences(replicated, config) == "node 3 weight 128 (config 64)");
  auto four = MetaState::FromConfig(64, 3, {Node(1), Node(2), Node(3), Node(4)});
  REQUIRE(four.ok());
  CHECK(DescribeDifferences(config, *four) == "node 4 only in config");
  CHECK(DescribeDifferences(*four, config) == "node 4 not in config");
}

TEST_CASE("meta state: node state names parse", "[meta]") {
  ring::NodeState s{};
  CHECK(ParseNodeState("up", &s));
  CHECK(s == ring::NodeState::kUp);
  CHECK(ParseNodeState("LEAVING", &s));
  CHECK(s == ring::NodeState::kLeaving);
  CHECK(ParseNodeState("Down", &s));
  CHECK(s == ring::NodeState::kDown);
  CHECK_FALSE(ParseNodeState("gone", &s));
  CHECK_FALSE(ParseNodeState("", &s));
}

}  // namespace
}  // namespace ringkv::server::cluster
