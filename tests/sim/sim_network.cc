#include "tests/sim/sim_network.h"

namespace ringkv::sim {

int64_t SimNetwork::Delay() {
  if (rng_->Chance(config_.long_delay_chance)) return rng_->Range(config_.max_delay, config_.long_delay);
  return rng_->Range(config_.min_delay, config_.max_delay);
}

void SimNetwork::Send(int64_t now, consensus::multi::MessageBatch batch) {
  sent_++;
  if (Blocked(batch.from, batch.to) || rng_->Chance(config_.loss)) {
    dropped_++;
    return;
  }
  if (rng_->Chance(config_.duplicate)) queue_.push(Packet{now + Delay(), seq_++, batch});
  queue_.push(Packet{now + Delay(), seq_++, std::move(batch)});
}

std::vector<consensus::multi::MessageBatch> SimNetwork::Due(int64_t now) {
  std::vector<consensus::multi::MessageBatch> out;
  while (!queue_.empty() && queue_.top().at <= now) {
    Packet p = queue_.top();
    queue_.pop();
    // A partition that started while the packet was in flight drops it too.
    if (Blocked(p.batch.from, p.batch.to)) {
      dropped_++;
      continue;
    }
    out.push_back(std::move(p.batch));
  }
  return out;
}

}  // namespace ringkv::sim
