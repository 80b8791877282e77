// MultiRaftHost: drives many Raft groups of one node on one thread, without I/O.
//
// What it adds on top of one RawNode per group:
//  - Routing: Receive() steps each message of an incoming MessageBatch into the group
//    named by Message::group_id (unknown groups are counted and dropped).
//  - Batching: every message a group emits is queued per destination node; Flush()
//    sends one MessageBatch per destination. Heartbeats and their responses travel as
//    compact coalesced items (see message_batch.h).
//  - Quiescence: a leader whose group is idle (everything replicated, committed and
//    applied to every follower, no reads pending, no transfer, not joint) for
//    `quiesce_after_ticks` stops ticking and tells its followers to stop too. Any
//    proposal, read, transfer or incoming message (but a heartbeat response) wakes a
//    group. Nodes exchange a liveness beat every tick even when every group sleeps, and
//    a follower whose leader's node has been silent for `peer_down_ticks` wakes up so
//    it can elect a new leader, and leaders report it unreachable to their groups
//    (RawNode::ReportUnreachable), as a transport does when a connection breaks.
//    Quiescence stops the leader's clock, so it must not be combined with lease reads
//    (ReadOnlyOption::kLeaseBased): AddGroup refuses that combination.
//  - Group commit: TakeReadies() collects the Ready of every group with work and
//    queues their immediately sendable messages; the caller persists all of them with
//    one sync, applies committed entries, then calls Advance(), which queues the
//    messages that had to wait for the sync and advances every group.
//
// The loop of the owner, per iteration:
//   host.Tick() when the tick timer fires; host.Receive(batch) for each batch;
//   if (host.HasReady()) { auto rds = host.TakeReadies(); host.Flush();
//       persist every rds[i].ready (one fsync); apply committed entries;
//       host.Advance(rds); }
//   host.Flush();
//
// Ownership: the host owns its RawNodes, not their LogStorage (Config::storage must
// outlive the group) and not the Transport. One thread; not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "consensus/multi/message_batch.h"
#include "consensus/raft.h"

namespace ringkv::consensus::multi {

// Where the host's batches go. Send must not call back into the host.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual void Send(MessageBatch batch) = 0;
};

struct HostOptions {
  NodeId node_id = kNoNode;
  // Every other node this node exchanges liveness beats with.
  std::vector<NodeId> peers;
  bool quiesce = true;
  int quiesce_after_ticks = 20;
  int peer_down_ticks = 10;
  // A peer that got nothing from this node for more than this many ticks gets a
  // liveness beat. Set it to the groups' heartbeat_tick: then beats fill only
  // the silences heartbeats leave, instead of waking every peer every tick.
  int beat_every_ticks = 1;
  // Messages per batch; a larger outbox is split (a bound on transport frames).
  size_t max_messages_per_batch = 4096;
};

struct GroupReady {
  GroupId group = 0;
  Ready ready;
};

struct HostStats {
  uint64_t ticks = 0;
  uint64_t group_ticks = 0;           // RawNode::Tick calls
  uint64_t quiesced_group_ticks = 0;  // ticks skipped because the group slept
  uint64_t quiesce_events = 0;
  uint64_t wake_events = 0;
  uint64_t batches_sent = 0;
  uint64_t messages_sent = 0;           // full messages inside batches
  uint64_t heartbeat_items_sent = 0;    // coalesced heartbeats inside batches
  uint64_t liveness_beats_sent = 0;     // empty batches
  uint64_t readies = 0;
  uint64_t ready_rounds = 0;            // TakeReadies calls that returned work
  uint64_t dropped_unknown_group = 0;
};

class MultiRaftHost {
 public:
  MultiRaftHost(HostOptions options, Transport* transport);
  MultiRaftHost(const MultiRaftHost&) = delete;
  MultiRaftHost& operator=(const MultiRaftHost&) = delete;

  // Creates the group's RawNode. Errors: InvalidArgument if the group exists, the
  // config is invalid, or quiescence is combined with lease reads.
  Status AddGroup(GroupId group, const Config& config);
  void RemoveGroup(GroupId group);
  // The group's node, or nullptr. For status queries and ApplyConfChange.
  RawNode* Group(GroupId group);
  const RawNode* Group(GroupId group) const;
  std::vector<GroupId> Groups() const;

  // Requests; each wakes a quiesced group. NotFound for an unknown group.
  Status Propose(GroupId group, std::string data);
  Status ProposeConfChange(GroupId group, const ConfChange& cc);
  Status ReadIndex(GroupId group, std::string request_ctx);
  Status TransferLeader(GroupId group, NodeId transferee);
  Status Campaign(GroupId group);

  // One logical tick for every awake group, plus quiescence and peer liveness.
  void Tick();
  // Steps every message of the batch into its group.
  void Receive(const MessageBatch& batch);

  bool HasReady() const;
  // The Ready of every group with work, in group order. Immediate messages are
  // moved out of each Ready (its `messages` comes back empty) and queued for the next
  // Flush.
  std::vector<GroupReady> TakeReadies();
  // REQUIRES: `readies` is the last TakeReadies() result, persisted and applied.
  void Advance(const std::vector<GroupReady>& readies);
  // The same, but moves the persisted messages out of `readies` instead of copying
  // them (entry payloads included); `readies` is left valid but unspecified.
  void Advance(std::vector<GroupReady>&& readies);
  // Sends the queued messages, one batch (or a few, if over the bound) per node.
  void Flush();

  // While the readies of the last TakeReadies are being persisted (before
  // Advance), what need not wait for that write (RawNode::TakeImmediateMessages
  // and TakeStableCommittedEntries) for every group touched since:
  // QueueImmediateMessages queues the messages for the next Flush, and
  // TakeStableCommitted returns the committed entries durable before, which
  // count as applied (the owner applies them at once).
  void QueueImmediateMessages();
  struct GroupEntries {
    GroupId group = 0;
    std::vector<Entry> entries;
  };
  std::vector<GroupEntries> TakeStableCommitted();
  // The ReadIndex answers of every group touched since (RawNode::TakeReadStates).
  struct GroupReadStates {
    GroupId group = 0;
    std::vector<ReadState> read_states;
  };
  std::vector<GroupReadStates> TakeReadStates();

  bool IsQuiesced(GroupId group) const;
  const HostStats& stats() const { return stats_; }
  NodeId node_id() const { return options_.node_id; }

 private:
  struct GroupState {
    std::unique_ptr<RawNode> node;
    bool quiesced = false;
    int idle_ticks = 0;
    int pending_reads = 0;
    NodeId leader = kNoNode;
    Role role = Role::kFollower;
  };

  GroupState* Find(GroupId group);
  void Wake(GroupId group, GroupState* g);
  void Touch(GroupId group) { dirty_.insert(group); }
  void MaybeQuiesce(GroupId group, GroupState* g);
  void Queue(GroupId group, Message m);
  template <typename Readies>
  void AdvanceImpl(Readies& readies, bool move_messages);
  void QueueQuiesce(GroupId group, NodeId to, uint64_t term, uint64_t commit);
  void StepOne(const Message& m, bool is_quiesce_item);

  HostOptions options_;
  Transport* transport_;  // not owned
  std::map<GroupId, GroupState> groups_;
  // Groups that may have a Ready: touched since their last TakeReadies.
  std::set<GroupId> dirty_;
  // Per destination: the batch being filled and the sizes of the last one sent
  // (capacity hints). Entries stay after Flush; a peer set is small and stable.
  struct Outgoing {
    MessageBatch batch;
    size_t last_messages = 0;
    size_t last_heartbeats = 0;
  };
  std::map<NodeId, Outgoing> outbox_;
  // Tick count at which each peer was last heard from.
  std::map<NodeId, uint64_t> last_heard_;
  std::set<NodeId> beat_due_;
  // Tick count at which each peer was last sent a batch (beats fill silences).
  std::map<NodeId, uint64_t> last_sent_;
  // Peers silent for more than peer_down_ticks (reported unreachable once per silence).
  std::set<NodeId> peers_down_;
  HostStats stats_;
};

}  // namespace ringkv::consensus::multi
