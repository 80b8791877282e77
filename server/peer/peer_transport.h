// PeerTransport: TCP links between ringkv nodes on the peer port — the one
// code path for Raft messages, snapshot chunks and forwarded client commands.
//
// Connections. Each node dials one outgoing connection to every peer it knows
// (SetPeer) and sends only on it; it accepts inbound connections from peers
// and reads frames from them. Frames are read from outgoing connections too
// (and reading them is how a closed peer is noticed at once). Outgoing
// connections use bind_host as their source address, so a test can cut one
// node off with a firewall rule on its address. The wire format (a hello frame,
// then length-prefixed, versioned, CRC32C-checked frames) is in frame.h.
//
// Batching. Send() only appends the encoded frame to the peer's queue. A
// uv_prepare handle (before the loop polls) and a uv_check handle (after the
// I/O callbacks ran) flush every queue that has data and no write in flight
// with ONE uv_write (a writev of coalesced chunks; large payloads are moved,
// not copied). At most one write per peer is in flight; frames queued
// meanwhile go out in the next one. Order per destination is Send() order.
//
// Broken connections. The frames of a write that failed are lost (they may
// have been partly delivered); frames still queued are kept, up to
// max_queued_bytes_per_peer, and sent after the reconnect, after a new hello.
// Delivery is therefore at most once, in order, with possible gaps at a
// reconnect: Raft (the main user) retransmits what it needs. Reconnects back
// off exponentially from reconnect_min_ms to reconnect_max_ms with jitter
// (each delay uniform in [d/2, d]); a connect that takes longer than
// connect_timeout_ms is abandoned and retried the same way.
//
// Identity. Frames read on an inbound connection are delivered with the node
// id its hello announced, known peer or not: deciding whom to listen to (and
// dropping messages of removed members) is the caller's job, as in Raft.
//
// Bad input. A frame with a bad version, an unknown channel, a length over
// max_frame_bytes or a CRC mismatch, a data frame before the hello, a second
// hello, a bad hello, or a truncated frame at EOF closes that connection only
// and counts bad_frames. Nothing the peer sends can crash the process.
//
// Threading and ownership: single-threaded. Construct, use and Close() on the
// thread that runs `loop`; the loop must outlive the transport. Close() must
// be called, and its callback must have run, before the transport is
// destroyed (the destructor checks). Handlers run on the loop thread and may
// call any method, including Close().
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "server/peer/frame.h"
#include "storage/base/status.h"

namespace ringkv::server::peer {

struct PeerTransportOptions {
  NodeId self = 0;
  // Listen address AND source address of outgoing connections (numeric IPv4 or
  // IPv6; a wildcard address leaves the source to the kernel).
  std::string bind_host = "127.0.0.1";
  uint16_t port = 0;  // 0 = ephemeral (tests); port() tells the bound one
  uint32_t reconnect_min_ms = 20;
  uint32_t reconnect_max_ms = 1000;
  uint32_t connect_timeout_ms = 3000;
  // TCP_USER_TIMEOUT on outgoing connections: sent data unacknowledged this
  // long breaks the connection (then redial). 0 leaves the kernel default.
  uint32_t user_timeout_ms = 10000;
  uint32_t max_frame_bytes = 64 << 20;
  uint64_t max_queued_bytes_per_peer = 256ull << 20;  // beyond: Send drops and counts
};

class PeerTransport {
 public:
  using Handler = std::function<void(NodeId from, Channel channel, std::string_view payload)>;
  using PeerStateHandler = std::function<void(NodeId peer, bool connected)>;

  struct Stats {
    uint64_t frames_sent = 0;      // frames handed to a uv_write (hello excluded)
    uint64_t frames_received = 0;  // data frames delivered to the handler
    uint64_t bytes_sent = 0;       // bytes of completed writes, headers included
    uint64_t bytes_received = 0;   // bytes read from sockets
    uint64_t writes = 0;           // uv_write calls
    uint64_t connects = 0;         // outgoing connections established
    uint64_t reconnects = 0;       // of which after an earlier one to the same peer
    uint64_t drops = 0;            // Send() calls refused
    uint64_t bad_frames = 0;       // connections closed for bad input
  };

  PeerTransport(uv_loop_t* loop, PeerTransportOptions options);
  ~PeerTransport();
  PeerTransport(const PeerTransport&) = delete;
  PeerTransport& operator=(const PeerTransport&) = delete;

  // Binds and listens on bind_host:port. On failure the Status names the
  // address. REQUIRES: called once, before Close().
  Status Start();
  // The bound port (valid after Start() succeeded).
  uint16_t port() const { return port_; }
  // The largest payload Send accepts.
  uint32_t max_frame_bytes() const { return options_.max_frame_bytes; }

  // Adds a peer, or updates its address (an open connection to the old address
  // is closed and a new one dialed at once). Dialing starts immediately.
  // `host` must be a numeric IP address; an unparsable one makes every dial
  // fail (and back off) until SetPeer() corrects it.
  void SetPeer(NodeId id, std::string host, uint16_t port);
  // Forgets a peer: closes its outgoing connection and drops its queue.
  void RemovePeer(NodeId id);

  void SetHandler(Handler handler) { handler_ = std::move(handler); }
  void SetPeerStateHandler(PeerStateHandler handler) { state_handler_ = std::move(handler); }

  // Queues one frame for `to` (see the header comment for batching and
  // order). Returns false, and counts a drop, if the peer is unknown, the
  // payload is over max_frame_bytes, the queue would exceed
  // max_queued_bytes_per_peer, or the transport is closing.
  bool Send(NodeId to, Channel channel, std::string payload);

  // True while the outgoing connection to `id` is established.
  bool Connected(NodeId id) const;
  // Bytes queued or in flight to `id` (0 for an unknown peer).
  uint64_t QueuedBytes(NodeId id) const;
  Stats stats() const { return stats_; }
  // The last connection-level error (bad frame, failed dial or write), for
  // logs and tests; empty if none happened.
  const std::string& last_error() const { return last_error_; }

  // True once Close() completed (its callback ran).
  bool closed() const { return closed_; }

  // Closes every handle; `on_closed` runs (on the loop) once all are closed.
  // Handlers are not called after Close(). Idempotent.
  void Close(std::function<void()> on_closed);

 private:
  struct Conn;
  struct Peer;
  struct WriteReq;

  static void OnConnection(uv_stream_t* server, int status);
  static void OnConnect(uv_connect_t* req, int status);
  static void OnAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void OnWrite(uv_write_t* req, int status);
  static void OnConnClosed(uv_handle_t* handle);
  static void OnPeerTimer(uv_timer_t* timer);
  static void OnPeerTimerClosed(uv_handle_t* handle);
  static void OnOwnHandleClosed(uv_handle_t* handle);
  static void OnFlushPass(uv_prepare_t* prepare);
  static void OnFlushCheck(uv_check_t* check);

  void Dial(Peer* peer);
  void ScheduleReconnect(Peer* peer);
  // Closes `conn` (idempotent). For the current outgoing connection of a peer
  // it also schedules a redial when `reconnect`, and reports the disconnect.
  void CloseConn(Conn* conn, bool reconnect);
  // A write to conn's peer failed with libuv error rc: records it and closes
  // the connection to reconnect.
  void WriteFailed(Conn* conn, int rc);
  void Flush(Peer* peer);
  void FlushAll();
  // Handles received bytes on `conn`; false if the connection was closed.
  bool Deliver(Conn* conn);
  void BadFrame(Conn* conn, const std::string& why);
  Peer* FindPeer(NodeId id) const;
  void HandleClosed();
  uint32_t Jitter(uint32_t delay_ms);

  uv_loop_t* const loop_;
  const PeerTransportOptions options_;
  uv_tcp_t listener_;
  uv_prepare_t prepare_;
  uv_check_t check_;
  uint16_t port_ = 0;
  bool started_ = false;
  bool listener_open_ = false;
  bool closing_ = false;
  bool closed_ = false;
  // Handles initialised and not yet closed (listener, prepare, check, peer
  // timers, connections); Close() completes when it reaches 0.
  int open_handles_ = 0;
  std::function<void()> on_closed_;
  Handler handler_;
  PeerStateHandler state_handler_;
  std::unordered_map<NodeId, std::unique_ptr<Peer>> peers_;
  // Peers removed whose timer handle is still closing (freed by its callback).
  std::unordered_set<Peer*> retired_peers_;
  std::unordered_set<Conn*> inbound_;
  // Peers with queued data and no write in flight, as of their last Send.
  std::unordered_set<NodeId> dirty_;
  uint64_t rng_state_;
  std::string last_error_;
  Stats stats_;
};

}  // namespace ringkv::server::peer
