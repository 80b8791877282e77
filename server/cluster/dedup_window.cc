#include "server/cluster/dedup_window.h"

#include "storage/base/coding.h"

namespace ringkv::server::cluster {

size_t DedupWindow::Probe(const WriteId& id, uint32_t hash) const {
  const size_t mask = table_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const uint64_t slot = table_[i];
    if (slot == kEmpty || (SlotHash(slot) == hash && ring_[SlotRing(slot)].id == id)) return i;
  }
}

const std::string* DedupWindow::Find(WriteId id) const {
  if (count_ == 0) return nullptr;
  const uint64_t slot = table_[Probe(id, static_cast<uint32_t>(HashOf(id)))];
  return slot == kEmpty ? nullptr : &ring_[SlotRing(slot)].reply;
}

void DedupWindow::Grow() {
  const size_t cap = ring_.empty() ? 16 : ring_.size() * 2;
  std::vector<Applied> ring(cap);
  for (size_t age = 0; age < count_; ++age) ring[age] = std::move(At(age));
  ring_ = std::move(ring);
  head_ = 0;
  table_.assign(cap * 2, kEmpty);
  for (size_t at = 0; at < count_; ++at) {
    const uint32_t hash = static_cast<uint32_t>(HashOf(ring_[at].id));
    table_[Probe(ring_[at].id, hash)] = SlotOf(hash, at);
  }
}

void DedupWindow::ForgetOldest() {
  Applied& old = ring_[head_];
  // Backward-shift deletion keeps every probe sequence unbroken without
  // tombstones: later entries of the run move into the hole when their home
  // slot is not between the hole and themselves.
  const size_t mask = table_.size() - 1;
  size_t hole = Probe(old.id, static_cast<uint32_t>(HashOf(old.id)));
  for (size_t i = (hole + 1) & mask; table_[i] != kEmpty; i = (i + 1) & mask) {
    const size_t home = SlotHash(table_[i]) & mask;
    const bool movable = hole <= i ? (home <= hole || home > i) : (home <= hole && home > i);
    if (movable) {
      table_[hole] = table_[i];
      hole = i;
    }
  }
  table_[hole] = kEmpty;
  bytes_ -= old.reply.size();
  old.reply.clear();
  head_ = (head_ + 1) & (ring_.size() - 1);
  --count_;
}

void DedupWindow::Remember(WriteId id, int64_t now_ms, std::string reply) {
  if (table_.empty()) Grow();
  const uint32_t hash = static_cast<uint32_t>(HashOf(id));
  size_t slot = Probe(id, hash);
  if (table_[slot] != kEmpty) return;  // the first reply stands
  // A full window forgets its oldest write first, as it would right after
  // (so the ring never needs more than kMaxEntries slots).
  if (count_ == kMaxEntries) {
    ForgetOldest();
    slot = Probe(id, hash);
  }
  if (count_ == ring_.size()) {
    Grow();
    slot = Probe(id, hash);
  }
  const size_t at = (head_ + count_) & (ring_.size() - 1);
  Applied& a = ring_[at];
  a.id = id;
  a.now_ms = now_ms;
  bytes_ += reply.size();
  if (reply.size() <= a.reply.capacity()) {
    a.reply.assign(reply);  // keeps the slot's buffer
  } else {
    a.reply = std::move(reply);
  }
  table_[slot] = SlotOf(hash, at);
  ++count_;
  // Entry clocks come from successive leaders and may step back a little;
  // age is measured from the newest entry seen, so it only grows.
  newest_ms_ = std::max(newest_ms_, now_ms);
  while (count_ > 0 && (count_ > kMaxEntries || bytes_ > kMaxBytes ||
                        ring_[head_].now_ms < newest_ms_ - kMaxAgeMs)) {
    ForgetOldest();
  }
}

// Encoding, inside a shard snapshot: varint64 count, then per write, oldest
// first: fixed64 origin, fixed64 seq, fixed64 entry clock (ms, two's
// complement), lenprefixed reply.
void DedupWindow::EncodeTo(std::string* out) const {
  PutVarint64(out, count_);
  for (size_t age = 0; age < count_; ++age) {
    const Applied& a = At(age);
    PutFixed64(out, a.id.origin);
    PutFixed64(out, a.id.seq);
    PutFixed64(out, static_cast<uint64_t>(a.now_ms));
    PutLengthPrefixed(out, a.reply);
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
