#include "ring/membership.h"

#include <algorithm>
#include <unordered_set>

#include "storage/base/coding.h"
#include "storage/base/crc32c.h"

namespace ringkv::ring {
namespace {

constexpr uint8_t kMembershipFormatVersion = 1;

Status ValidateNode(const NodeInfo& node) {
  if (node.id == kNoNode) return Status::InvalidArgument("node id 0 is reserved");
  if (node.tokens.size() != node.weight) {
    return Status::InvalidArgument("node " + std::to_string(node.id) + " has " +
                                   std::to_string(node.tokens.size()) + " tokens but weight " +
                                   std::to_string(node.weight));
  }
  if (!std::is_sorted(node.tokens.begin(), node.tokens.end())) {
    return Status::InvalidArgument("node " + std::to_string(node.id) + " tokens not sorted");
  }
  if (static_cast<uint8_t>(node.state) > static_cast<uint8_t>(NodeState::kLeaving)) {
    return Status::InvalidArgument("bad node state");
  }
  return Status::OK();
}

bool SameNode(const NodeInfo& a, const NodeInfo& b) {
  return a.id == b.id && a.client_addr == b.client_addr && a.peer_addr == b.peer_addr &&
         a.weight == b.weight && a.state == b.state && a.tokens == b.tokens;
}

}  // namespace

const char* NodeStateName(NodeState state) {
  switch (state) {
    case NodeState::kUp:
      return "up";
    case NodeState::kDown:
      return "down";
    case NodeState::kLeaving:
      return "leaving";
  }
  return "unknown";
}

size_t Membership::LiveCount() const {
  return static_cast<size_t>(
      std::count_if(nodes_.begin(), nodes_.end(), [](const NodeInfo& n) { return n.live(); }));
}

const NodeInfo* Membership::Find(NodeId id) const {
  auto it = std::lower_bound(nodes_.begin(), nodes_.end(), id,
                             [](const NodeInfo& n, NodeId v) { return n.id < v; });
  if (it == nodes_.end() || it->id != id) return nullptr;
  return &*it;
}

NodeInfo* Membership::FindMutable(NodeId id) {
  auto it = std::lower_bound(nodes_.begin(), nodes_.end(), id,
                             [](const NodeInfo& n, NodeId v) { return n.id < v; });
  if (it == nodes_.end() || it->id != id) return nullptr;
  return &*it;
}

Status Membership::AddNode(NodeInfo node) {
  RINGKV_RETURN_IF_ERROR(ValidateNode(node));
  if (Find(node.id) != nullptr) {
    return Status::InvalidArgument("node " + std::to_string(node.id) + " already a member");
  }
  for (const NodeInfo& other : nodes_) {
    for (uint64_t t : node.tokens) {
      if (std::binary_search(other.tokens.begin(), other.tokens.end(), t)) {
        return Status::InvalidArgument("token collides with node " + std::to_string(other.id));
      }
    }
  }
  for (size_t i = 1; i < node.tokens.size(); ++i) {
    if (node.tokens[i] == node.tokens[i - 1]) return Status::InvalidArgument("duplicate token");
  }
  auto it = std::lower_bound(nodes_.begin(), nodes_.end(), node.id,
                             [](const NodeInfo& n, NodeId v) { return n.id < v; });
  nodes_.insert(it, std::move(node));
  ++epoch_;
  return Status::OK();
}

Status Membership::RemoveNode(NodeId id) {
  auto it =
      std::find_if(nodes_.begin(), nodes_.end(), [id](const NodeInfo& n) { return n.id == id; });
  if (it == nodes_.end()) return Status::NotFound("node " + std::to_string(id));
  nodes_.erase(it);
  ++epoch_;
  return Status::OK();
}

Status Membership::ReplaceNode(NodeId old_id, NodeInfo replacement) {
  const NodeInfo* old = Find(old_id);
  if (old == nullptr) return Status::NotFound("node " + std::to_string(old_id));
  if (replacement.id == kNoNode || Find(replacement.id) != nullptr) {
    return Status::InvalidArgument("replacement id 0 or already a member");
  }
  replacement.weight = old->weight;
  replacement.tokens = old->tokens;
  RINGKV_RETURN_IF_ERROR(RemoveNode(old_id));
  Status st = AddNode(std::move(replacement));
  RINGKV_CHECK(st.ok());  // the tokens were just freed, so they cannot collide
  --epoch_;               // one logical change
  return Status::OK();
}

Status Membership::SetState(NodeId id, NodeState state) {
  NodeInfo* node = FindMutable(id);
  if (node == nullptr) return Status::NotFound("node " + std::to_string(id));
  node->state = state;
  ++epoch_;
  return Status::OK();
}

Status Membership::SetAddrs(NodeId id, std::string_view client_addr, std::string_view peer_addr) {
  NodeInfo* node = FindMutable(id);
  if (node == nullptr) return Status::NotFound("node " + std::to_string(id));
  node->client_addr = client_addr;
  node->peer_addr = peer_addr;
  ++epoch_;
  return Status::OK();
}

Status Membership::Validate() const {
  std::unordered_set<uint64_t> seen;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    RINGKV_RETURN_IF_ERROR(ValidateNode(nodes_[i]));
    if (i > 0 && nodes_[i - 1].id >= nodes_[i].id) {
      return Status::InvalidArgument("node ids not unique and sorted");
    }
    for (uint64_t t : nodes_[i].tokens) {
      if (!seen.insert(t).second) return Status::InvalidArgument("token used twice");
    }
  }
  return Status::OK();
}

std::string Membership::Encode() const {
  std::string out;
  out.push_back(static_cast<char>(kMembershipFormatVersion));
  PutVarint64(&out, epoch_);
  PutVarint32(&out, static_cast<uint32_t>(nodes_.size()));
  for (const NodeInfo& n : nodes_) {
    PutVarint64(&out, n.id);
    PutLengthPrefixed(&out, n.client_addr);
    PutLengthPrefixed(&out, n.peer_addr);
    PutVarint32(&out, n.weight);
    out.push_back(static_cast<char>(n.state));
    for (uint64_t t : n.tokens) PutFixed64(&out, t);
  }
  PutFixed32(&out, crc32c::Mask(crc32c::Value(out)));
  return out;
}

Result<Membership> Membership::Decode(std::string_view data) {
  if (data.size() < 5) return Status::Corruption("membership: too short");
  std::string_view body = data.substr(0, data.size() - 4);
  uint32_t stored = DecodeFixed32(data.data() + body.size());
  if (crc32c::Unmask(stored) != crc32c::Value(body)) {
    return Status::Corruption("membership: checksum mismatch");
  }
  if (static_cast<uint8_t>(body[0]) != kMembershipFormatVersion) {
    return Status::Corruption("membership: unknown version " +
                              std::to_string(static_cast<uint8_t>(body[0])));
  }
  body.remove_prefix(1);
  Membership m;
  uint32_t count = 0;
  if (!GetVarint64(&body, &m.epoch_) || !GetVarint32(&body, &count)) {
    return Status::Corruption("membership: bad header");
  }
  for (uint32_t i = 0; i < count; ++i) {
    NodeInfo n;
    std::string_view client, peer;
    if (!GetVarint64(&body, &n.id) || !GetLengthPrefixed(&body, &client) ||
        !GetLengthPrefixed(&body, &peer) || !GetVarint32(&body, &n.weight) || body.empty()) {
      return Status::Corruption("membership: truncated node");
    }
    n.client_addr = client;
    n.peer_addr = peer;
    n.state = static_cast<NodeState>(static_cast<uint8_t>(body[0]));
    body.remove_prefix(1);
    if (body.size() / 8 < n.weight) return Status::Corruption("membership: truncated tokens");
    n.tokens.resize(n.weight);
    for (uint32_t t = 0; t < n.weight; ++t) {
      n.tokens[t] = DecodeFixed64(body.data());
      body.remove_prefix(8);
    }
    m.nodes_.push_back(std::move(n));
  }
  if (!body.empty()) return Status::Corruption("membership: trailing bytes");
  Status st = m.Validate();
  if (!st.ok()) return Status::Corruption("membership: " + st.message());
  return m;
}

bool Membership::operator==(const Membership& other) const {
  if (epoch_ != other.epoch_ || nodes_.size() != other.nodes_.size()) return false;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (!SameNode(nodes_[i], other.nodes_[i])) return false;
  }
  return true;
}

}  // namespace ringkv::ring
