#include "server/cluster/dedup_window.h"

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

}  // namespace ringkv::server::cluster
