#include "consensus/progress/inflights.h"

#include "storage/base/check.h"

namespace ringkv::consensus::progress {

void Inflights::Add(uint64_t index) {
  RINGKV_CHECK(!Full());
  RINGKV_CHECK(q_.empty() || q_.back() <= index);
  q_.push_back(index);
}

void Inflights::FreeLE(uint64_t to) {
  while (!q_.empty() && q_.front() <= to) q_.pop_front();
}

}  // namespace ringkv::consensus::progress
