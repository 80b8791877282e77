// Progress: the leader's view of one follower's log (match/next, §5.3) and
// the flow-control state machine that decides what to send it next:
//
//   kProbe:     we do not know where the follower's log matches ours. Send at
//               most one kApp per heartbeat interval and wait for its answer.
//   kReplicate: the follower is catching up normally; send optimistically,
//               advancing next as messages go out, bounded by `inflights`.
//   kSnapshot:  the entries it needs were compacted; a snapshot at
//               pending_snapshot is being streamed to it in chunks.
//
// Owned by the leader's ProgressTracker. Invariant: match < next.
#pragma once

#include <cstdint>
#include <string>

#include "consensus/progress/inflights.h"

namespace ringkv::consensus::progress {

enum class State : uint8_t { kProbe = 0, kReplicate, kSnapshot };
const char* StateName(State s);

struct Progress {
  explicit Progress(int max_inflight) : inflights(max_inflight) {}

  uint64_t match = 0;
  uint64_t next = 1;  // Invariant: match < next
  State state = State::kProbe;
  // kProbe: a kApp was sent and no answer or heartbeat came back yet.
  bool probe_sent = false;
  // kSnapshot: the snapshot index being sent.
  uint64_t pending_snapshot = 0;
  // kSnapshot: bytes of snapshot data sent / acknowledged by the follower.
  uint64_t snapshot_sent_bytes = 0;
  uint64_t snapshot_acked_bytes = 0;
  // kSnapshot: the chunk with the done flag went out since the last rewind.
  bool snapshot_done_sent = false;
  // kSnapshot: acked bytes seen at the last heartbeat response; no progress
  // between two heartbeats means chunks were lost and are resent.
  uint64_t snapshot_acked_at_heartbeat = 0;
  // Heard from since the last CheckQuorum round.
  bool recent_active = false;
  bool is_learner = false;
  Inflights inflights;

  void ResetState(State s);
  void BecomeProbe();
  void BecomeReplicate();
  void BecomeSnapshot(uint64_t snapshot_index);

  // A successful append response acknowledged `n`. Returns false if it was
  // stale (n <= match).
  bool MaybeUpdate(uint64_t n);
  // kReplicate: entries up to `last` were just sent.
  void SentEntries(uint64_t last, bool any, uint64_t bytes = 0);
  // A rejection of the probe at `rejected`; `match_hint` is the follower's
  // suggested index. Returns false if the rejection is stale.
  bool MaybeDecrTo(uint64_t rejected, uint64_t match_hint);
  // Whether sending kApp to this follower is currently held back.
  bool IsPaused() const;

  std::string Describe() const;
};

}  // namespace ringkv::consensus::progress
