#include "server/cluster/dedup_window.h"

#include "storage/base/coding.h"

namespace ringkv::server::cluster {

const std::string* DedupWindow::Find(WriteId id) const {
  auto it = replies_.find(id);
  return it == replies_.end() ? nullptr : &it->second;
}

void DedupWindow::Remember(WriteId id, int64_t now_ms, std::string reply) {
  auto [it, inserted] = replies_.try_emplace(id);
  if (!inserted) return;  // the first reply stands
  bytes_ += reply.size();
  it->second = std::move(reply);
  order_.push_back(Applied{id, now_ms});
  // Entry clocks come from successive leaders and may step back a little;
  // age is measured from the newest entry seen, so it only grows.
  newest_ms_ = std::max(newest_ms_, now_ms);
  while (!order_.empty() &&
         (order_.size() > kMaxEntries || bytes_ > kMaxBytes ||
          order_.front().now_ms < newest_ms_ - kMaxAgeMs)) {
    auto old = replies_.find(order_.front().id);
    bytes_ -= old->second.size();
    replies_.erase(old);
    order_.pop_front();
  }
}

// Encoding, inside a shard snapshot: varint64 count, then per write, oldest
// first: fixed64 origin, fixed64 seq, fixed64 entry clock (ms, two's
// complement), lenprefixed reply.
void DedupWindow::EncodeTo(std::string* out) const {
  PutVarint64(out, order_.size());
  for (const Applied& a : order_) {
    PutFixed64(out, a.id.origin);
    PutFixed64(out, a.id.seq);
    PutFixed64(out, static_cast<uint64_t>(a.now_ms));
    PutLengthPrefixed(out, replies_.at(a.id));
  }
}

Status DedupWindow::DecodeFrom(std::string_view in) {
  *this = DedupWindow();
  if (in.empty()) return Status::OK();  // no window (a version-1 shard snapshot)
  uint64_t count = 0;
  if (!GetVarint64(&in, &count)) return Status::Corruption("dedup window: bad count");
  for (uint64_t i = 0; i < count; i++) {
    if (in.size() < 24) {
      *this = DedupWindow();
      return Status::Corruption("dedup window: truncated");
    }
    WriteId id{DecodeFixed64(in.data()), DecodeFixed64(in.data() + 8)};
    const int64_t now_ms = static_cast<int64_t>(DecodeFixed64(in.data() + 16));
    in.remove_prefix(24);
    std::string_view reply;
    if (!GetLengthPrefixed(&in, &reply)) {
      *this = DedupWindow();
      return Status::Corruption("dedup window: truncated reply");
    }
    Remember(id, now_ms, std::string(reply));
  }
  if (!in.empty()) {
    *this = DedupWindow();
    return Status::Corruption("dedup window: trailing bytes");
  }
  return Status::OK();
}

}  // namespace ringkv::server::cluster
