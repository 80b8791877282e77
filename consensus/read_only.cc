#include "consensus/read_only.h"

namespace ringkv::consensus {

bool ReadOnly::AddRequest(uint64_t index, const Message& req) {
  RINGKV_CHECK(!req.entries.empty());
  const std::string& ctx = req.entries[0].data;
  if (pending_.count(ctx) || queue_.size() >= kMaxPendingReads) return false;
  pending_.emplace(ctx, ReadIndexStatus{req, index, {}});
  queue_.push_back(ctx);
  return true;
}

const std::map<NodeId, bool>* ReadOnly::RecvAck(NodeId id, const std::string& ctx) {
  auto it = pending_.find(ctx);
  if (it == pending_.end()) return nullptr;
  it->second.acks[id] = true;
  return &it->second.acks;
}

std::vector<ReadIndexStatus> ReadOnly::Advance(const std::string& ctx) {
  std::vector<ReadIndexStatus> out;
  if (!pending_.count(ctx)) return out;
  // Bounded by the queue length.
  while (!queue_.empty()) {
    std::string c = std::move(queue_.front());
    queue_.pop_front();
    auto it = pending_.find(c);
    RINGKV_CHECK(it != pending_.end());
    out.push_back(std::move(it->second));
    pending_.erase(it);
    if (c == ctx) break;
  }
  return out;
}

}  // namespace ringkv::consensus
