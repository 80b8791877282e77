// The byte formats of client commands that leave their loop thread: a command
// proposed to a shard's Raft group (and applied on every replica), and a
// command forwarded to another node with its relayed reply.
//
// Replicated command (a Raft entry's data), version 2, little endian:
//   fixed8  version (= 2; version 1, still decoded, lacks the write id)
//   fixed8  RESP version of the proposing client (2 or 3): the leader builds
//           the proposer's reply in that protocol; other replicas discard it
//   fixed64 leader's wall-clock ms when proposed: every replica runs the
//           command with this as "now", so relative TTLs and lazy expiry
//           decide the same way everywhere (replicas never read their clock)
//   fixed64 write id origin: the node whose router first took the command
//   fixed64 write id sequence (0 with origin 0: no id)
//   varint32 argc, then argc x (varint32 length, bytes)
// The write id stays the same when the router retries the command (after a
// lost leadership or forward), so replicas apply it once (dedup_window.h).
//
// Forward request (the body of a kForwardRequest frame; the transport adapter
// wraps it with its request id), version 2:
//   fixed8  version (= 2; version 1 lacks the write id)
//   fixed8  RESP version
//   fixed8  flags (bit 0: READONLY connection)
//   fixed8  hops: how many times the command was forwarded already (bounds
//           forwarding loops while leadership moves)
//   fixed64 write id origin, fixed64 write id sequence (as above)
//   varint32 argc, then argc x (varint32 length, bytes)
// The reply travels back as the encoded RESP bytes themselves.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/status.h"

namespace ringkv::server::cluster {

// Names one client write across retries; {0, 0} = none.
struct WriteId {
  uint64_t origin = 0;
  uint64_t seq = 0;
  bool empty() const { return origin == 0 && seq == 0; }
  bool operator==(const WriteId&) const = default;
};

struct ReplicatedCommand {
  int resp = 2;
  int64_t now_ms = 0;
  WriteId id;
  std::vector<std::string_view> args;  // views into the decoded buffer
};

void EncodeReplicatedCommand(std::span<const std::string_view> args, int resp, int64_t now_ms,
                             std::string* out, WriteId id = {});
// Corruption on a truncated or malformed buffer or an unknown version.
Status DecodeReplicatedCommand(std::string_view data, ReplicatedCommand* out);

enum ForwardFlags : uint8_t { kForwardReadonly = 1 };

struct ForwardRequest {
  int resp = 2;
  uint8_t flags = 0;
  uint8_t hops = 0;
  WriteId id;
  std::vector<std::string_view> args;
};

void EncodeForwardRequest(int resp, uint8_t flags, uint8_t hops,
                          std::span<const std::string_view> args, std::string* out,
                          WriteId id = {});
Status DecodeForwardRequest(std::string_view data, ForwardRequest* out);

}  // namespace ringkv::server::cluster
