// Connection: one client socket on one loop thread — its read buffer, RESP
// parser, gathered replies and write state.
//
// Life: created by LoopThread on accept, registered in the ClientRegistry,
// destroyed in its uv_close callback. Only its loop thread touches it (other
// threads see its ClientState through the registry, see client_state.h).
//
// Input: libuv reads straight into `rbuf_` (a buffer that grows only for a
// large argument and never shrinks per read); commands are parsed in place
// (argv are views into it) and dispatched immediately.
// Output: every reply is appended to `out_`; the loop's "before poll" pass
// (uv_prepare) calls Flush() once per iteration: one uv_try_write of all of
// it, and a uv_write of what the kernel did not take. While a uv_write is in
// flight, new replies gather in `out_`.
// Backpressure: reading pauses while unsent output exceeds
// client-output-pause-bytes, and resumes when the write completes; it also
// pauses while more than 1 MB of input waits behind outstanding replies, and
// resumes when they arrived.
// Deferred replies (cluster mode): a command routed to a Raft group or
// another node reserves a slot in `slots_`; replies of later commands queue
// behind it, and completed slots drain into `out_` in command order. While a
// reply is outstanding, writes may follow writes into dispatch (they are
// ordered by their shard's log) and reads of keys may follow reads (a
// pipeline of GETs to shards led elsewhere is forwarded at once, not one round
// trip at a time); any other command waits in rbuf_ until every outstanding
// reply arrived, so a read always sees this client's own writes and a write
// never overtakes a read. At most kMaxOutstanding commands are in flight,
// and a write waits too while the loop's pending write bytes are over
// cluster.max-pending-write-bytes (a connection with nothing outstanding
// always proceeds, so every client makes progress).
// Replies already complete wait for those still outstanding and go out in
// one write with them (or once kEagerFlushBytes gathered), as a pipeline's
// replies do from a single-threaded server.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "server/client_state.h"
#include "server/net/deferred_reply.h"
#include "server/resp/reply_builder.h"
#include "server/resp/resp_parser.h"

namespace ringkv::server {

class LoopThread;

class Connection : public Deferrer {
 public:
  Connection(LoopThread* loop, uint64_t max_bulk_len);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  uv_tcp_t* handle() { return &handle_; }
  ClientState& client() { return client_; }

  // After uv_accept succeeded: socket options, addresses, start reading.
  void Start(int64_t now_ms);
  // Sends what `out_` holds (see header comment). Called by the loop's prepare pass.
  void Flush();
  // Closes the socket; the object is deleted by the close callback. Idempotent.
  void Close();
  bool closing() const { return closing_; }
  size_t pending_output() const { return out_.size() + (inflight_.size() - inflight_off_); }
  // Releases buffer capacity left over from a burst (called by the loop timer when idle).
  void TrimBuffers();

  // Deferrer: reserves the reply slot of the command being dispatched.
  ReplyCallback Defer(bool is_write) override;
  std::weak_ptr<void> Liveness() const override { return self_ref_; }

  // Intrusive membership in the loop's lists.
  bool in_flush_list = false;

 private:
  static void OnAlloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void OnRead(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void OnWrite(uv_write_t* req, int status);
  static void OnClose(uv_handle_t* h);

  void ProcessInput();
  // Fills slot `ticket` and moves every leading completed slot to out_.
  void CompleteDeferred(uint64_t ticket, std::string reply);
  // Whether the next command may be dispatched while replies are outstanding
  // (notes a hold by the pending-write bound in the loop stats).
  bool MayDispatchWhileWaiting(std::string_view command_name);
  void EnsureReadSpace();
  void ScheduleFlush();
  // Whether `out_` should be written this loop pass (see FlushDue in .cc).
  bool FlushDue() const;
  static constexpr size_t kEagerFlushBytes = 16 * 1024;
  void UpdateReading();

  uv_tcp_t handle_;
  uv_write_t write_req_;
  LoopThread* loop_;
  ClientState client_;
  RespParser parser_;
  ReplyBuilder reply_;

  std::unique_ptr<char[]> rbuf_;
  size_t rcap_ = 0;
  size_t rstart_ = 0;  // first unconsumed byte
  size_t rend_ = 0;    // end of received bytes

  std::string out_;       // replies not yet handed to the kernel or libuv
  std::string inflight_;  // bytes owned by the in-flight uv_write
  size_t inflight_off_ = 0;
  bool writing_ = false;
  bool reading_ = false;
  bool closing_ = false;

  struct Slot {
    uint64_t ticket = 0;  // 0: an ordinary slot gathering later replies
    bool ready = false;
    uint32_t write_bytes = 0;  // a deferred write's share of the loop's pending bytes
    std::string bytes;
  };
  // The RESP size of the command being dispatched (Defer charges it to a write).
  size_t dispatching_bytes_ = 0;
  // Held back by the pending-write bound since the last dispatch (counts a hold once).
  bool held_by_gate_ = false;
  std::deque<Slot> slots_;       // non-empty only while a reply is outstanding
  uint64_t next_ticket_ = 1;
  // Commands of one connection in flight at once (see the ordering gate).
  static constexpr uint32_t kMaxOutstanding = 1024;
  uint32_t outstanding_ = 0;        // slots not yet ready
  uint32_t outstanding_reads_ = 0;  // of which were not writes
  // Completions hold a weak reference: a reply for a closed connection is dropped.
  std::shared_ptr<Connection*> self_ref_ = std::make_shared<Connection*>(this);
};

}  // namespace ringkv::server
