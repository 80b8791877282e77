// Chunked InstallSnapshot (§7), both sides.
//
// Leader: when a follower needs entries that were compacted, its Progress
// enters kSnapshot and the snapshot is streamed as kSnap chunks of at most
// max_snapshot_chunk_bytes, at most kChunkWindow chunks ahead of the
// follower's acknowledgement. Each chunk carries the snapshot meta, its byte
// offset and, on the last one, the done flag.
//
// Follower: reassembles chunks of one snapshot (identified by meta index and
// term) strictly in order. Every chunk is answered with kSnapResp giving the
// next byte offset it wants (reject=true when the chunk did not continue
// its buffer, so the leader rewinds). After the last chunk it installs the
// snapshot and answers with kAppResp(index = last index), which moves the
// leader's Progress back to probe/replicate.
//
// Loss recovery: a heartbeat response while no acknowledged progress was
// made since the previous one makes the leader rewind to the acknowledged
// offset and resend.
#include <algorithm>

#include "consensus/membership/changer.h"
#include "consensus/raft_core.h"

namespace ringkv::consensus {

namespace {
constexpr uint64_t kChunkWindow = 4;
}  // namespace

bool Raft::StartSnapshot(NodeId to, progress::Progress* pr) {
  // Only stream to a follower that has recently answered; it might be down.
  if (!pr->recent_active) return false;
  auto snap = log_.GetSnapshot();
  if (!snap.ok()) return false;  // temporarily unavailable: retry later
  RINGKV_CHECK_MSG(!snap->IsEmpty(), "need a non-empty snapshot");
  std::shared_ptr<const Snapshot> s;
  for (const auto& [id, other] : outgoing_snapshots_) {
    if (other->meta.index == snap->meta.index) {
      s = other;
      break;
    }
  }
  if (!s) s = std::make_shared<const Snapshot>(std::move(*snap));
  outgoing_snapshots_[to] = s;
  pr->BecomeSnapshot(s->meta.index);
  SendSnapshotChunks(to, pr);
  return true;
}

void Raft::SendSnapshotChunks(NodeId to, progress::Progress* pr) {
  auto it = outgoing_snapshots_.find(to);
  if (it == outgoing_snapshots_.end() || it->second->meta.index != pr->pending_snapshot) {
    // Lost track of the snapshot (e.g. config change): start over by probing.
    pr->BecomeProbe();
    return;
  }
  const Snapshot& s = *it->second;
  const uint64_t size = s.data.size();
  const uint64_t chunk = max_snapshot_chunk_bytes_;
  for (uint64_t k = 0; k < kChunkWindow; ++k) {
    uint64_t off = pr->snapshot_sent_bytes;
    if (pr->snapshot_done_sent) break;
    if (off - pr->snapshot_acked_bytes >= kChunkWindow * chunk) break;
    uint64_t len = std::min(chunk, size - off);
    Message m;
    m.type = MessageType::kSnap;
    m.to = to;
    m.snapshot.meta = s.meta;
    m.snapshot.data = s.data.substr(off, len);
    m.snapshot_offset = off;
    m.snapshot_done = off + len == size;
    pr->snapshot_sent_bytes = off + len;
    if (m.snapshot_done) pr->snapshot_done_sent = true;
    Send(std::move(m));
  }
}

void Raft::LeaderHandleSnapResp(const Message& m, progress::Progress* pr) {
  pr->recent_active = true;
  if (pr->state != progress::State::kSnapshot || m.index != pr->pending_snapshot) return;
  auto it = outgoing_snapshots_.find(m.from);
  if (it == outgoing_snapshots_.end()) return;
  uint64_t size = it->second->data.size();
  uint64_t off = std::min(m.snapshot_offset, size);
  if (m.reject) {
    // The follower's buffer ends at `off`; resend from there.
    pr->snapshot_acked_bytes = off;
    pr->snapshot_sent_bytes = off;
    pr->snapshot_done_sent = false;
  } else {
    pr->snapshot_acked_bytes = std::max(pr->snapshot_acked_bytes, off);
    pr->snapshot_sent_bytes = std::max(pr->snapshot_sent_bytes, pr->snapshot_acked_bytes);
  }
  SendSnapshotChunks(m.from, pr);
}

void Raft::HandleSnapshotChunk(const Message& m) {
  const SnapshotMeta& meta = m.snapshot.meta;
  if (meta.index <= log_.committed()) {
    // We already have everything this snapshot covers; report our commit
    // so the leader resumes normal replication.
    incoming_snapshot_.reset();
    Message r;
    r.type = MessageType::kAppResp;
    r.to = m.from;
    r.index = log_.committed();
    Send(std::move(r));
    return;
  }
  bool same = incoming_snapshot_ && incoming_snapshot_->meta.index == meta.index &&
              incoming_snapshot_->meta.term == meta.term;
  if (!same && m.snapshot_offset == 0) {
    incoming_snapshot_ = Snapshot{meta, {}};
    same = true;
  }
  Message r;
  r.type = MessageType::kSnapResp;
  r.to = m.from;
  r.index = meta.index;
  if (!same) {
    // A chunk of a snapshot whose start we never saw: ask for offset 0.
    r.reject = true;
    r.snapshot_offset = 0;
    Send(std::move(r));
    return;
  }
  Snapshot& buf = *incoming_snapshot_;
  if (m.snapshot_offset != buf.data.size()) {
    // Duplicate (behind) or gap (ahead): tell the leader where we are.
    r.reject = m.snapshot_offset > buf.data.size();
    r.snapshot_offset = buf.data.size();
    Send(std::move(r));
    return;
  }
  buf.data += m.snapshot.data;
  if (!m.snapshot_done) {
    r.snapshot_offset = buf.data.size();
    Send(std::move(r));
    return;
  }
  Snapshot full = std::move(buf);
  incoming_snapshot_.reset();
  Message a;
  a.type = MessageType::kAppResp;
  a.to = m.from;
  a.index = RestoreSnapshot(full) ? log_.LastIndex() : log_.committed();
  Send(std::move(a));
}

bool Raft::RestoreSnapshot(const Snapshot& s) {
  if (s.meta.index <= log_.committed()) return false;
  if (role_ != Role::kFollower) {
    // Only a leader of our term sends snapshots, and that makes us follow.
    BecomeFollower(term_ + 1, kNoNode);
    return false;
  }
  // The snapshot's config may predate the conf change that added us (the
  // leader only sends to members of its current config); we restore it
  // anyway and learn our membership from the entries that follow it. Until
  // then we are not promotable, so this is safe.
  const ConfState& cs = s.meta.conf_state;
  // If our log already contains the snapshot's last entry, just fast-forward
  // the commit index; the entries after it stay.
  if (log_.MatchTerm(s.meta.index, s.meta.term)) {
    log_.CommitTo(s.meta.index);
    return false;
  }
  log_.Restore(s);
  auto cp = membership::Changer::Restore(cs, log_.LastIndex(), trk_.max_inflight());
  RINGKV_CHECK_MSG(cp.ok(), "snapshot carries an invalid conf state");
  SwitchToConfig(cp->config, cp->progress);
  return true;
}

}  // namespace ringkv::consensus
