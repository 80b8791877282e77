#include "consensus/progress/progress.h"

#include <algorithm>

#include "storage/base/check.h"

namespace ringkv::consensus::progress {

const char* StateName(State s) {
  switch (s) {
    case State::kProbe: return "probe";
    case State::kReplicate: return "replicate";
    case State::kSnapshot: return "snapshot";
  }
  return "?";
}

void Progress::ResetState(State s) {
  probe_sent = false;
  pending_snapshot = 0;
  snapshot_sent_bytes = 0;
  snapshot_acked_bytes = 0;
  snapshot_done_sent = false;
  snapshot_acked_at_heartbeat = 0;
  state = s;
  inflights.Reset();
}

void Progress::BecomeProbe() {
  // Coming back from a snapshot, the follower has at least the snapshot.
  if (state == State::kSnapshot) {
    uint64_t ps = pending_snapshot;
    ResetState(State::kProbe);
    next = std::max(match + 1, ps + 1);
  } else {
    ResetState(State::kProbe);
    next = match + 1;
  }
}

void Progress::BecomeReplicate() {
  ResetState(State::kReplicate);
  next = match + 1;
}

void Progress::BecomeSnapshot(uint64_t snapshot_index) {
  ResetState(State::kSnapshot);
  pending_snapshot = snapshot_index;
}

bool Progress::MaybeUpdate(uint64_t n) {
  bool updated = false;
  if (match < n) {
    match = n;
    updated = true;
    probe_sent = false;
  }
  next = std::max(next, n + 1);
  return updated;
}

void Progress::SentEntries(uint64_t last, bool any, uint64_t bytes) {
  switch (state) {
    case State::kReplicate:
      if (any) {
        next = last + 1;
        inflights.Add(last, bytes);
      }
      break;
    case State::kProbe:
      probe_sent = true;
      break;
    case State::kSnapshot:
      RINGKV_CHECK_MSG(false, "sending entries in snapshot state");
  }
}

bool Progress::MaybeDecrTo(uint64_t rejected, uint64_t match_hint) {
  if (state == State::kReplicate) {
    // Stale if the rejected index is already known to match.
    if (rejected <= match) return false;
    // Directly fall back to what we know matches; probing resumes there.
    next = match + 1;
    return true;
  }
  // In probe state only the rejection of the last probe (next-1) counts.
  if (next == 0 || next - 1 != rejected) return false;
  next = std::max<uint64_t>(std::min(rejected, match_hint + 1), match + 1);
  probe_sent = false;
  return true;
}

bool Progress::IsPaused() const {
  switch (state) {
    case State::kProbe: return probe_sent;
    case State::kReplicate: return inflights.Full();
    case State::kSnapshot: return true;
  }
  return true;
}

std::string Progress::Describe() const {
  std::string s = std::string(StateName(state)) + " match=" + std::to_string(match) +
                  " next=" + std::to_string(next);
  if (is_learner) s += " learner";
  if (state == State::kSnapshot) s += " pending_snap=" + std::to_string(pending_snapshot);
  if (inflights.Count() > 0) s += " inflight=" + std::to_string(inflights.Count());
  return s;
}

}  // namespace ringkv::consensus::progress
