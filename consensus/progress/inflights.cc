#include "consensus/progress/inflights.h"

#include "storage/base/check.h"

namespace ringkv::consensus::progress {

void Inflights::Add(uint64_t index, uint64_t bytes) {
  RINGKV_CHECK(!Full());
  RINGKV_CHECK(q_.empty() || q_.back().index <= index);
  q_.push_back(Sent{index, bytes});
  bytes_ += bytes;
}

void Inflights::FreeLE(uint64_t to) {
  while (!q_.empty() && q_.front().index <= to) FreeFirstOne();
}

void Inflights::FreeFirstOne() {
  if (q_.empty()) return;
  bytes_ -= q_.front().bytes;
  q_.pop_front();
}

}  // namespace ringkv::consensus::progress
