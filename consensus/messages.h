// Raft value types shared by the core, the multi-raft host, the simulator and
// the server: log entries, hard state, snapshots, configuration states and
// changes, read states and the Message exchanged between peers.
//
// All types are plain values (copyable, no pointers); whoever holds one owns
// it. Node ids are non-zero uint64; 0 means "none". Log indexes start at 1;
// index 0 with term 0 is the empty-log sentinel.
//
// Wire format (written by messages.cc, see the byte-by-byte description there):
// Message and Entry have a binary encoding with a leading version byte. Decode
// returns Status::Corruption on truncated, oversized or unknown-version input
// and never reads outside the given bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/status.h"

namespace ringkv::consensus {

using NodeId = uint64_t;
constexpr NodeId kNoNode = 0;

enum class EntryType : uint8_t {
  kNormal = 0,      // data is an application command (empty data: leader no-op)
  kConfChange = 1,  // data is an encoded ConfChange (EncodeConfChange)
};

// One log entry. Invariant inside a log: indexes are consecutive and terms
// never decrease.
struct Entry {
  uint64_t term = 0;
  uint64_t index = 0;
  EntryType type = EntryType::kNormal;
  std::string data;

  bool operator==(const Entry&) const = default;
};

// What a node must persist before it answers anyone (§5.1, Figure 2):
// currentTerm, votedFor, plus the commit index (persisting commit is optional
// for safety but lets a restarted node apply without waiting for a leader).
struct HardState {
  uint64_t term = 0;
  NodeId vote = kNoNode;
  uint64_t commit = 0;

  bool IsEmpty() const { return term == 0 && vote == kNoNode && commit == 0; }
  bool operator==(const HardState&) const = default;
};

// The membership of a group. Voters in voters_outgoing are the old config
// while a joint configuration is in effect (§6 / dissertation §4.3).
// Invariants: a node is in at most one of {voters, learners} and at most one
// of {voters_outgoing, learners}; learners_next holds nodes that are voters in
// the outgoing config and become learners when the joint config is left.
struct ConfState {
  std::vector<NodeId> voters;
  std::vector<NodeId> learners;
  std::vector<NodeId> voters_outgoing;
  std::vector<NodeId> learners_next;
  bool auto_leave = false;

  bool IsJoint() const { return !voters_outgoing.empty(); }
  // Order-insensitive comparison.
  bool Equivalent(const ConfState& other) const;
  bool operator==(const ConfState&) const = default;
};

struct SnapshotMeta {
  uint64_t index = 0;  // last index covered by the snapshot
  uint64_t term = 0;   // term of that entry
  ConfState conf_state;

  bool operator==(const SnapshotMeta&) const = default;
};

// A point-in-time image of the state machine plus the log position it covers.
struct Snapshot {
  SnapshotMeta meta;
  std::string data;

  bool IsEmpty() const { return meta.index == 0; }
  bool operator==(const Snapshot&) const = default;
};

enum class ConfChangeType : uint8_t {
  kAddNode = 0,     // add as voter (or promote a learner)
  kRemoveNode = 1,  // remove a voter or learner
  kAddLearner = 2,  // add as learner (or demote a voter)
};

struct ConfChangeSingle {
  ConfChangeType type = ConfChangeType::kAddNode;
  NodeId node_id = kNoNode;
  bool operator==(const ConfChangeSingle&) const = default;
};

// How a change of more than one voter is carried out.
enum class ConfChangeTransition : uint8_t {
  // Single-step change if at most one voter changes, else joint consensus
  // that the leader leaves automatically once the joint config is applied.
  kAuto = 0,
  // Always joint consensus, left automatically.
  kJointImplicit = 1,
  // Always joint consensus; the application leaves it by proposing an empty
  // ConfChange.
  kJointExplicit = 2,
};

// A membership change proposal. An empty `changes` list means "leave the
// joint configuration".
struct ConfChange {
  ConfChangeTransition transition = ConfChangeTransition::kAuto;
  std::vector<ConfChangeSingle> changes;
  std::string context;

  bool LeaveJoint() const { return changes.empty(); }
  // Whether this change must go through a joint configuration, and whether
  // the joint configuration is left automatically.
  bool EnterJoint(bool* auto_leave) const;
  bool operator==(const ConfChange&) const = default;
};

// A linearizable read point: once the local applied index reaches `index`,
// the read identified by `request_ctx` may be served (§6.4).
struct ReadState {
  uint64_t index = 0;
  std::string request_ctx;
  bool operator==(const ReadState&) const = default;
};

enum class MessageType : uint8_t {
  // Local messages: never sent over the wire; fed to Step by the node itself.
  kHup = 0,            // start an election (campaign)
  kBeat = 1,           // leader: broadcast heartbeats
  kCheckQuorum = 2,    // leader: check the quorum was active in the last election timeout
  kUnreachable = 3,    // the transport could not reach `from`
  // Client requests, possibly forwarded between peers.
  kProp = 4,           // proposal; forwarded to the leader by followers
  kReadIndex = 5,      // read index request; forwarded to the leader by followers
  kReadIndexResp = 6,  // leader -> follower answer to a forwarded kReadIndex
  kTransferLeader = 7, // ask the leader to transfer leadership to `from`
  // Peer messages.
  kApp = 8,             // AppendEntries (§5.3)
  kAppResp = 9,         // AppendEntries response
  kVote = 10,           // RequestVote (§5.2)
  kVoteResp = 11,
  kPreVote = 12,        // PreVote (dissertation §9.6)
  kPreVoteResp = 13,
  kSnap = 14,           // one chunk of InstallSnapshot (§7)
  kSnapResp = 15,       // acknowledgement of one snapshot chunk
  kHeartbeat = 16,
  kHeartbeatResp = 17,
  kTimeoutNow = 18,     // leadership transfer: start an election now (dissertation §3.10)
};
constexpr int kNumMessageTypes = 19;

const char* MessageTypeName(MessageType t);
bool IsLocalMessage(MessageType t);
bool IsResponseMessage(MessageType t);

// One Raft message. Fields are used per type:
//   kApp:        log_term/index = the entry before `entries`; commit
//   kAppResp:    index = last matching index (accept) or the rejected index;
//                reject, reject_hint (follower's last index <= the probe),
//                log_term = term at reject_hint (fast backtracking)
//   kVote/kPreVote: log_term/index = candidate's last entry; context =
//                "transfer" when caused by leadership transfer
//   kSnap:       snapshot.meta, snapshot.data = the chunk starting at
//                snapshot_offset; snapshot_done on the last chunk
//   kSnapResp:   index = snapshot index, snapshot_offset = next byte wanted,
//                reject when the chunk did not continue the buffered prefix
//   kHeartbeat:  commit (min(match, commit)), context = read-index context
//   kReadIndex / kReadIndexResp: entries[0].data = request context; index
struct Message {
  MessageType type = MessageType::kHup;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  uint64_t term = 0;
  uint64_t log_term = 0;
  uint64_t index = 0;
  std::vector<Entry> entries;
  uint64_t commit = 0;
  bool reject = false;
  uint64_t reject_hint = 0;
  Snapshot snapshot;  // kSnap only; data holds one chunk
  uint64_t snapshot_offset = 0;
  bool snapshot_done = false;
  std::string context;
  // Opaque to the core (always 0 in messages it emits); the multi-raft host
  // stamps the group id here so one transport can carry many groups.
  uint64_t group_id = 0;

  bool operator==(const Message&) const = default;
};

// Approximate byte size used for batching limits (max_size_per_msg).
uint64_t EntrySize(const Entry& e);

// --- Binary encoding (versioned, length-checked). ---------------------------
// Encode appends to *dst. Decode parses exactly `input` (trailing bytes are an
// error) and returns Corruption on malformed input.
void EncodeEntry(const Entry& e, std::string* dst);
Status DecodeEntry(std::string_view input, Entry* e);
void EncodeMessage(const Message& m, std::string* dst);
Status DecodeMessage(std::string_view input, Message* m);
void EncodeConfChange(const ConfChange& cc, std::string* dst);
Status DecodeConfChange(std::string_view input, ConfChange* cc);
void EncodeHardState(const HardState& hs, std::string* dst);
Status DecodeHardState(std::string_view input, HardState* hs);
void EncodeConfState(const ConfState& cs, std::string* dst);
Status DecodeConfState(std::string_view input, ConfState* cs);

// Human-readable one-liners for traces and test failure messages.
std::string DescribeMessage(const Message& m);
std::string DescribeEntry(const Entry& e);
std::string DescribeConfState(const ConfState& cs);

}  // namespace ringkv::consensus
