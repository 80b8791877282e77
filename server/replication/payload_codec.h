// Byte envelopes the replication host wraps around application bytes.
//
// Proposal (the data of every normal log entry the host proposes), version 1:
//   byte     version = 1
//   varint64 proposer node id
//   varint64 proposal id (unique per proposer across restarts: it starts at a random
//            64-bit offset), so the proposer can match the committed entry to its caller
//   bytes    the state machine command (rest of the entry)
// Entries with empty data are the leader no-ops of the Raft core and carry no envelope.
//
// Snapshot data (consensus::Snapshot::data sent and stored by the host), version 1:
//   byte     version = 1
//   bytes    StateMachine::TakeSnapshot() output (rest)
// The version byte also makes the data non-empty: the core never installs a
// zero-byte snapshot.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/base/status.h"

namespace ringkv::server::replication {

struct ProposalHeader {
  uint64_t node = 0;
  uint64_t id = 0;
};

std::string EncodeProposal(const ProposalHeader& h, std::string_view command);
// On success *command views into `data`. Corruption on a malformed envelope.
Status DecodeProposal(std::string_view data, ProposalHeader* h, std::string_view* command);

std::string EncodeSnapshotData(std::string state);
Status DecodeSnapshotData(std::string_view data, std::string_view* state);

}  // namespace ringkv::server::replication
