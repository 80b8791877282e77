// KvStateMachine: the replicated state machine the simulator runs on each replica of
// each group: a map of string keys to string values driven by put and
// compare-and-set commands carried in Raft entries, with per-client de-duplication.
//
// De-duplication: a client has at most one command outstanding and numbers its
// commands 1, 2, 3...; a command whose number is not above the last one applied for
// that client is a duplicate (a forwarded proposal the network delivered twice) and is
// skipped. Without this, one client put could take effect twice.
//
// Command encoding (entry data), version 1:
//   byte     version (1)
//   byte     kind: 1 = put, 2 = cas
//   varint64 client id
//   varint64 request number
//   lp       key                       (lp = varint32 length + bytes)
//   lp       value                     (put value / cas new value)
//   byte     has_expected (cas only; 0 = expect absent)
//   lp       expected                  (cas only, when has_expected = 1)
// Snapshot encoding, version 1:
//   byte version (1), varint64 n_keys, n x (lp key, lp value),
//   varint64 n_clients, n x (varint64 client id, varint64 last request number)
//
// Owned by one simulated replica; not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "storage/base/status.h"

namespace ringkv::sim {

struct KvCommand {
  enum class Kind : uint8_t { kPut = 1, kCas = 2 };
  Kind kind = Kind::kPut;
  uint64_t client_id = 0;
  uint64_t request = 0;
  std::string key;
  std::string value;
  std::optional<std::string> expected;
};

std::string EncodeKvCommand(const KvCommand& c);
Status DecodeKvCommand(std::string_view data, KvCommand* c);

class KvStateMachine {
 public:
  struct ApplyResult {
    bool duplicate = false;
    bool cas_ok = false;
  };

  // Applies one command. Never fails: a CAS whose expectation does not hold is a no-op
  // with cas_ok = false.
  ApplyResult Apply(const KvCommand& c);

  std::optional<std::string> Get(const std::string& key) const;

  std::string EncodeSnapshot() const;
  // Replaces the state with a decoded snapshot; empty data means the empty state.
  Status RestoreSnapshot(std::string_view data);

 private:
  std::map<std::string, std::string> data_;
  std::map<uint64_t, uint64_t> last_request_;
};

}  // namespace ringkv::sim
