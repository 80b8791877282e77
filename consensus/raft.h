// RawNode: the public face of one Raft group member, in etcd-io/raft's shape.
//
// The core is a deterministic state machine: it never touches a socket, a
// file, a clock or a thread. Inputs are Tick() (one logical clock tick),
// Step(message) (a message from a peer or a local request), and the
// Propose/ReadIndex/TransferLeader/ProposeConfChange helpers. Outputs are
// collected in a Ready, which the owner handles and then returns through
// Advance():
//
//   while (node.HasReady()) {
//     Ready rd = node.GetReady();
//     send rd.messages                      (may go out before the write below)
//     persist rd.hard_state, rd.entries, install rd.snapshot   (fsync if must_sync)
//     send rd.persisted_messages            (only after the write is durable)
//     apply rd.committed_entries in order (ApplyConfChange for conf changes)
//     serve rd.read_states once applied >= read_state.index
//     node.Advance(rd);
//   }
//
// Ownership and threads: a RawNode is owned by one loop thread and is not
// thread-safe. It keeps a non-owning pointer to Config::storage, which must
// outlive it. Determinism: all randomness comes from Config::rand_seed.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "consensus/log_storage.h"
#include "consensus/messages.h"
#include "storage/base/status.h"

namespace ringkv::consensus {

enum class ReadOnlyOption : uint8_t {
  // ReadIndex with a heartbeat round confirming leadership (§6.4).
  kSafe = 0,
  // Leader lease (§6.4.1): serve at the commit index without a round trip
  // while the lease holds. Requires check_quorum and bounded clock drift.
  kLeaseBased = 1,
};

enum class Role : uint8_t { kFollower = 0, kPreCandidate, kCandidate, kLeader };
const char* RoleName(Role r);

struct Config {
  NodeId id = kNoNode;  // must be non-zero
  // A follower that hears nothing from a leader for a randomized timeout in
  // [election_tick, 2*election_tick) starts an election. Must exceed
  // heartbeat_tick.
  int election_tick = 10;
  // A leader heartbeats every heartbeat_tick ticks. The heartbeat clock runs
  // from the group's creation and is not restarted by elections, so the groups
  // of one multi-raft host that tick together beat on the same ticks and their
  // heartbeats share one coalesced batch per peer.
  int heartbeat_tick = 1;
  // Ticks already on the heartbeat clock at creation (taken modulo
  // heartbeat_tick): a host that adds groups at different ticks passes its own
  // tick count, so all its leaders beat on the same ticks.
  uint64_t heartbeat_phase = 0;
  LogStorage* storage = nullptr;  // not owned; must outlive the RawNode
  // The last index already applied by the state machine (on restart).
  uint64_t applied = 0;
  // Max bytes of entries in one kApp (at least one entry is always sent).
  uint64_t max_size_per_msg = 1 << 20;
  // Max bytes of committed entries handed out in one Ready.
  uint64_t max_committed_size_per_ready = 16 << 20;
  // Max bytes of entry payload the leader holds uncommitted; proposals beyond
  // it are refused (Aborted) until entries commit. 0 means no limit.
  uint64_t max_uncommitted_entries_size = 0;
  // Max kApp messages in flight to one follower (pipelining window).
  int max_inflight_msgs = 256;
  // Max bytes of entries in flight to one follower; 0 means no limit. Without
  // it a follower far behind gets max_inflight_msgs * max_size_per_msg built
  // in one go once it acknowledges (256 MB with the defaults).
  uint64_t max_inflight_bytes = 0;
  // Max bytes of snapshot data per kSnap chunk.
  uint64_t max_snapshot_chunk_bytes = 1 << 20;
  // Leader steps down if it has not heard from a quorum for an election timeout.
  bool check_quorum = false;
  // Run a PreVote round before incrementing the term.
  bool pre_vote = false;
  ReadOnlyOption read_only_option = ReadOnlyOption::kSafe;
  // kLeaseBased only: the bound, in percent, on how much faster or slower any
  // node's tick runs than any other's. The lease is shortened so that it ends
  // before a follower that last heard from the leader could vote for anyone
  // else (see Raft::LeaseValid). Lease reads are unsafe if the bound is wrong.
  int lease_clock_drift_percent = 10;
  // Drop proposals on followers instead of forwarding them to the leader.
  bool disable_proposal_forwarding = false;
  // Seed of the RNG for randomized election timeouts.
  uint64_t rand_seed = 1;

  Status Validate() const;
};

// Volatile state that is useful for logging and routing.
struct SoftState {
  NodeId leader = kNoNode;
  Role role = Role::kFollower;
  bool operator==(const SoftState&) const = default;
};

// A batch of work for the owner. See the loop at the top of this file.
struct Ready {
  // Set when the leader or role changed since the last Ready.
  std::optional<SoftState> soft_state;
  // Set when term/vote/commit changed; persist before persisted_messages.
  std::optional<HardState> hard_state;
  // Linearizable read points (§6.4) that became ready.
  std::vector<ReadState> read_states;
  // Entries to append to stable storage (may overwrite a conflicting tail).
  std::vector<Entry> entries;
  // Snapshot to install into stable storage and the state machine.
  Snapshot snapshot;
  // Committed entries to apply, in index order; already persisted locally.
  std::vector<Entry> committed_entries;
  // Messages that may be sent immediately, in parallel with the local write
  // (a leader's kApp/kHeartbeat/kSnap, dissertation §10.2.1).
  std::vector<Message> messages;
  // Messages that may only be sent after hard_state/entries/snapshot of this
  // Ready are durable: votes, vote and append responses, which promise
  // something about this node's persisted state (§5.1, Figure 2).
  std::vector<Message> persisted_messages;
  // Whether the write must be fsynced (false when only commit moved).
  bool must_sync = false;

  bool ContainsUpdates() const;
};

// Per-follower replication state as seen by the leader (for tests, metrics).
struct ProgressStatus {
  uint64_t match = 0;
  uint64_t next = 0;
  std::string state;  // "probe" | "replicate" | "snapshot"
  bool is_learner = false;
  bool recent_active = false;
};

struct RaftStatus {
  NodeId id = kNoNode;
  HardState hard_state;
  SoftState soft_state;
  uint64_t applied = 0;
  uint64_t first_index = 0;
  uint64_t last_index = 0;
  NodeId lead_transferee = kNoNode;
  ConfState conf_state;
  std::map<NodeId, ProgressStatus> progress;  // leader only
};

// Bootstrap through the log (etcd's RawNode.Bootstrap): the committed entries
// that build the initial membership `cs` one single-node conf change at a
// time (voters first, then learners), at term 1 and indexes 1..n. Every
// initial member appends them to its storage and sets HardState{term 1,
// commit n}, with an empty ConfState; the first Ready hands them out to apply
// (ApplyConfChange) like any committed conf change. Unlike
// MemoryLogStorage::SetConfState, the membership history is then in the log,
// so a member added later with an empty log can replay it from index 1.
// REQUIRES: cs is not joint and has at least one voter.
std::vector<Entry> BootstrapEntries(const ConfState& cs);

class Raft;  // consensus/raft_core.h (internal)

class RawNode {
 public:
  // Builds a node from config and the storage's initial state.
  // Errors: InvalidArgument for a bad config; storage errors as returned.
  static Result<std::unique_ptr<RawNode>> New(const Config& config);
  ~RawNode();
  RawNode(const RawNode&) = delete;
  RawNode& operator=(const RawNode&) = delete;

  // Advances the logical clock by one tick (elections and heartbeats).
  void Tick();
  // Starts an election now (kHup).
  Status Campaign();
  // Proposes data for the log. Aborted("dropped") if there is no leader to
  // take it, or it was dropped (e.g. a transfer is in progress).
  Status Propose(std::string data);
  // Proposes a membership change. Aborted if a change is still pending.
  Status ProposeConfChange(const ConfChange& cc);
  // Feeds a message received from a peer. Local message types are rejected
  // with InvalidArgument. Messages for an unknown peer or an old term are
  // ignored (OK).
  Status Step(const Message& m);
  // Requests a linearizable read point; it comes back as a ReadState with the
  // same request_ctx in a later Ready (or never, if leadership is lost: the
  // caller retries after a timeout).
  void ReadIndex(std::string request_ctx);
  // Asks the leader to hand leadership to `transferee` (§3.10).
  void TransferLeader(NodeId transferee);
  // Applies a committed conf change entry to the membership and returns the
  // new ConfState (record it with the next snapshot).
  ConfState ApplyConfChange(const ConfChange& cc);
  // Tells the leader that `id` could not be reached (drops to probe state).
  void ReportUnreachable(NodeId id);

  bool HasReady() const;
  Ready GetReady();
  // Acknowledges that everything in rd was persisted, sent and applied.
  // REQUIRES: rd is the Ready returned by the last GetReady().
  void Advance(const Ready& rd);
  // While a Ready is being persisted (after GetReady, before Advance) the owner
  // may take two things that need not wait for that write:
  // - the messages that may be sent at once (Ready::messages: a leader's
  //   appends, heartbeats, snapshots) produced since the last GetReady;
  std::vector<Message> TakeImmediateMessages();
  // - committed entries that were durable here before that Ready (index <= the
  //   stable last index), in index order, stopping before the first conf change
  //   (which waits for a Ready). They count as applied once returned: the owner
  //   applies them before anything it takes later, and no Ready repeats them.
  std::vector<Entry> TakeStableCommittedEntries();
  // - the ReadIndex answers (Ready::read_states) produced since the last
  //   GetReady: an answer depends on nothing this node persists.
  std::vector<ReadState> TakeReadStates();

  RaftStatus GetStatus() const;
  // kLeaseBased only: true while this node leads, its lease holds, it has
  // committed an entry of its own term and applied everything committed.
  // Then a read of the applied state is linearizable without a round trip,
  // until the next Tick (which may end the lease).
  bool LeaseReadReady() const;
  NodeId id() const;
  // Internal access for the invariants checker and tests.
  const Raft& raft() const { return *raft_; }

 private:
  explicit RawNode(std::unique_ptr<Raft> raft);
  SoftState prev_soft_;
  HardState prev_hard_;
  std::unique_ptr<Raft> raft_;
};

}  // namespace ringkv::consensus
