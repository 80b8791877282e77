// The membership table keeps its invariants (unique ids, sorted, tokens ==
// weight, no shared token) through every mutator, and survives an
// encode/decode round trip bit for bit; damaged encodings are Corruption.
#include "ring/membership.h"

#include <catch2/catch.hpp>

#include "ring/token_allocator.h"

namespace ringkv::ring {
namespace {

NodeInfo Node(NodeId id, std::vector<uint64_t> tokens) {
  NodeInfo n;
  n.id = id;
  n.client_addr = "127.0.0.1:" + std::to_string(7000 + id);
  n.peer_addr = "127.0.0.1:" + std::to_string(17000 + id);
  n.weight = static_cast<uint32_t>(tokens.size());
  n.tokens = std::move(tokens);
  return n;
}

TEST_CASE("Membership add, find, remove, state", "[ring]") {
  Membership m;
  REQUIRE(m.AddNode(Node(5, {10, 20})).ok());
  REQUIRE(m.AddNode(Node(2, {30})).ok());
  CHECK(m.size() == 2);
  CHECK(m.nodes()[0].id == 2);  // sorted by id
  CHECK(m.Find(5)->tokens == std::vector<uint64_t>{10, 20});
  CHECK(m.Find(7) == nullptr);
  CHECK(m.epoch() == 2);

  CHECK(m.AddNode(Node(5, {40})).IsInvalidArgument());      // id taken
  CHECK(m.AddNode(Node(0, {40})).IsInvalidArgument());      // id 0 reserved
  CHECK(m.AddNode(Node(9, {20})).IsInvalidArgument());      // token collides
  CHECK(m.AddNode(Node(9, {50, 40})).IsInvalidArgument());  // unsorted
  NodeInfo bad = Node(9, {60});
  bad.weight = 2;
  CHECK(m.AddNode(bad).IsInvalidArgument());  // weight != tokens
  CHECK(m.epoch() == 2);

  REQUIRE(m.SetState(5, NodeState::kDown).ok());
  CHECK(m.LiveCount() == 1);
  CHECK(m.SetState(8, NodeState::kUp).IsNotFound());
  REQUIRE(m.RemoveNode(2).ok());
  CHECK(m.RemoveNode(2).IsNotFound());
  CHECK(m.size() == 1);
  CHECK(m.Validate().ok());
}

TEST_CASE("Membership ReplaceNode hands over tokens", "[ring]") {
  Membership m;
  REQUIRE(m.AddNode(Node(1, {10, 20})).ok());
  REQUIRE(m.AddNode(Node(2, {30})).ok());
  NodeInfo repl = Node(3, {});
  REQUIRE(m.ReplaceNode(1, repl).ok());
  CHECK(m.Find(1) == nullptr);
  CHECK(m.Find(3)->tokens == std::vector<uint64_t>{10, 20});
  CHECK(m.Find(3)->weight == 2);
  CHECK(m.ReplaceNode(1, Node(4, {})).IsNotFound());
  CHECK(m.ReplaceNode(3, Node(2, {})).IsInvalidArgument());
}

TEST_CASE("Membership encode/decode round trip and corruption", "[ring]") {
  Membership m;
  RingConfig config{64, 3};
  for (NodeId id = 1; id <= 6; ++id) {
    NodeInfo n = Node(id, {});
    n.weight = 8;
    REQUIRE(JoinNode(&m, config, n).ok());
  }
  REQUIRE(m.SetState(4, NodeState::kLeaving).ok());
  std::string enc = m.Encode();
  Result<Membership> dec = Membership::Decode(enc);
  REQUIRE(dec.ok());
  CHECK(*dec == m);
  CHECK(dec->Encode() == enc);

  // Every single-byte flip and every truncation is detected.
  for (size_t i = 0; i < enc.size(); ++i) {
    std::string bad = enc;
    bad[i] ^= 0x20;
    REQUIRE(Membership::Decode(bad).status().IsCorruption());
    REQUIRE(Membership::Decode(std::string_view(enc).substr(0, i)).status().IsCorruption());
  }
}

}  // namespace
}  // namespace ringkv::ring
