// Candidate and pre-candidate step handler (§5.2, dissertation §9.6): count
// votes, and give way to a leader of the same term.
#include "consensus/raft_core.h"

namespace ringkv::consensus {

Status Raft::StepCandidate(const Message& m) {
  // Only count responses of the kind of election we are running; stale
  // responses from an earlier (pre-)election are ignored.
  MessageType my_resp =
      role_ == Role::kPreCandidate ? MessageType::kPreVoteResp : MessageType::kVoteResp;
  switch (m.type) {
    case MessageType::kProp:
      return Status::Aborted("no leader; proposal dropped");
    case MessageType::kApp:
      // §5.2: a leader of our term exists; become its follower.
      BecomeFollower(m.term, m.from);
      HandleAppendEntries(m);
      return Status::OK();
    case MessageType::kHeartbeat:
      BecomeFollower(m.term, m.from);
      HandleHeartbeat(m);
      return Status::OK();
    case MessageType::kSnap:
      BecomeFollower(m.term, m.from);
      HandleSnapshotChunk(m);
      return Status::OK();
    case MessageType::kVoteResp:
    case MessageType::kPreVoteResp: {
      if (m.type != my_resp) return Status::OK();
      quorum::VoteResult res = Poll(m.from, m.type, !m.reject);
      if (res == quorum::VoteResult::kWon) {
        if (role_ == Role::kPreCandidate) {
          Campaign(false, false);
        } else {
          BecomeLeader();
          BcastAppend();
        }
      } else if (res == quorum::VoteResult::kLost) {
        // A pre-candidate keeps its term; a candidate stays at its new term.
        BecomeFollower(term_, kNoNode);
      }
      return Status::OK();
    }
    case MessageType::kTimeoutNow:
      return Status::OK();  // we are already campaigning
    case MessageType::kReadIndex:
    case MessageType::kTransferLeader:
      return Status::Aborted("no leader");
    default:
      return Status::OK();
  }
}

}  // namespace ringkv::consensus
