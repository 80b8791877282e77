// MessageBatch: everything one node sends another in one transport message.
//
// The multi-raft host groups every outgoing Raft message of every group by
// destination node. Heartbeats and heartbeat responses, which carry only a term, a
// commit index and a read-index context, are coalesced into compact per-group items,
// so a node pair exchanges one message per tick however many groups they share
// (the CockroachDB "coalesced heartbeats" scheme). A batch with no messages and no
// items is sent as a node-level liveness beat to a peer that got nothing else during
// the last tick: the receiver uses beats to wake quiesced groups whose leader went
// silent.
//
// Plain value; whoever holds it owns it. Encoding (version 1, see message_batch.cc):
//   byte version, varint64 from, varint64 to, varint32 n_items,
//   n x (varint64 group, byte flags[bit0 response, bit1 quiesce], varint64 term,
//        varint64 commit, lp context),
//   varint32 n_messages, n x lp EncodeMessage(message)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "consensus/messages.h"
#include "storage/base/status.h"

namespace ringkv::consensus::multi {

using GroupId = uint64_t;

// One coalesced heartbeat (or response) of one group.
struct HeartbeatItem {
  GroupId group = 0;
  bool response = false;
  // Set by a leader that is quiescing the group: the follower may stop ticking it.
  bool quiesce = false;
  uint64_t term = 0;
  uint64_t commit = 0;
  std::string context;
  bool operator==(const HeartbeatItem&) const = default;
};

struct MessageBatch {
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  std::vector<HeartbeatItem> heartbeats;
  // Full Raft messages; Message::group_id names the group.
  std::vector<Message> messages;
  bool operator==(const MessageBatch&) const = default;
};

// Whether `m` carries nothing beyond what a HeartbeatItem keeps, so coalescing loses
// nothing.
bool CanCoalesce(const Message& m);
HeartbeatItem ToItem(const Message& m);
Message FromItem(const HeartbeatItem& item, NodeId from, NodeId to);

void EncodeMessageBatch(const MessageBatch& b, std::string* dst);
Status DecodeMessageBatch(std::string_view input, MessageBatch* b);

}  // namespace ringkv::consensus::multi
