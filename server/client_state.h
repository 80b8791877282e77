// ClientState: what the server knows about one connected client, apart from
// its socket and buffers (server/net/connection.h owns those).
//
// Owned by its Connection and touched by that connection's loop thread, with
// two exceptions for CLIENT LIST / CLIENT KILL run on other threads: the
// strings name/lib_name/lib_ver are written and read under the
// ClientRegistry mutex, and the fields marked "shared" are atomics.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace ringkv::server {

// Wakes the loop that owns a client (uv_async_send underneath); set by the
// loop layer, nullptr in the in-process test harness.
struct LoopWaker {
  virtual void Wake() = 0;

 protected:
  ~LoopWaker() = default;
};

enum class ReplyMode : uint8_t {
  kOn,
  kOff,
  kSkipNext,  // CLIENT REPLY SKIP was just called: this command still replies nothing
  kSkip,      // the next command's reply is dropped
};

struct ClientState {
  uint64_t id = 0;
  int resp = 2;
  bool authenticated = false;
  ReplyMode reply_mode = ReplyMode::kOn;
  bool close_after_reply = false;  // QUIT, protocol error, self-kill
  bool no_evict = false;
  bool readonly = false;  // READONLY: reads may be served by a local follower
  // Cluster routing runs keyless commands (KEYS, SCAN, DBSIZE, RANDOMKEY,
  // FLUSH*) one shard at a time, on that shard's leader: >= 0 restricts them
  // to this shard. -1 (every client connection) means all shards.
  int64_t only_shard = -1;
  int db = 0;
  // Cluster mode: the shards this connection has sent writes to, one bit each
  // (WAIT counts the replicas of these). Loop thread only.
  std::vector<uint64_t> written_shards;
  int fd = -1;
  uint32_t thread_index = 0;
  std::string addr;   // "ip:port" of the peer
  std::string laddr;  // "ip:port" of our side
  int64_t ctime_ms = 0;
  // Guarded by ClientRegistry::mu().
  std::string name;
  std::string lib_name;
  std::string lib_ver;
  // Shared: read by CLIENT LIST on other threads.
  std::atomic<int64_t> last_interaction_ms{0};
  // Index into CommandTable::all() in the low 16 bits, 1 + subcommand index
  // above (so CLIENT LIST can print "client|list"); -1 before any command.
  std::atomic<int32_t> last_command{-1};
  std::atomic<uint64_t> query_buffer_bytes{0};
  std::atomic<uint64_t> output_buffer_bytes{0};
  std::atomic<uint64_t> commands_processed{0};
  // Shared: set by CLIENT KILL from any thread; the owning loop closes it.
  std::atomic<bool> kill_requested{false};
  LoopWaker* waker = nullptr;
};

}  // namespace ringkv::server
