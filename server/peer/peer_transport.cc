// See peer_transport.h for the contract and frame.h for the wire format.
#include "server/peer/peer_transport.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "storage/base/check.h"

namespace ringkv::server::peer {

namespace {

// Payloads up to this size are copied into a shared chunk (many small frames
// become one buffer); larger ones are moved and written as their own buffer.
constexpr size_t kCopyMax = 16 << 10;
// A shared chunk is closed when it would grow past this.
constexpr size_t kChunkTarget = 256 << 10;
constexpr int kListenBacklog = 128;
constexpr unsigned kKeepAliveSeconds = 10;

// Parses a numeric IPv4 or IPv6 address; false if it is neither.
bool ParseAddress(const std::string& host, uint16_t port, sockaddr_storage* out) {
  std::memset(out, 0, sizeof(*out));
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(out)) == 0) return true;
  if (uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(out)) == 0) return true;
  return false;
}

bool IsWildcard(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET) {
    return reinterpret_cast<const sockaddr_in&>(addr).sin_addr.s_addr == htonl(INADDR_ANY);
  }
  const auto& a6 = reinterpret_cast<const sockaddr_in6&>(addr);
  return std::memcmp(&a6.sin6_addr, &in6addr_any, sizeof(in6addr_any)) == 0;
}

std::string HostPort(const std::string& host, uint16_t port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

}  // namespace

// One TCP connection, inbound or outbound. Owned by the transport; deleted by
// its uv_close callback, so it outlives any callback libuv still has queued.
struct PeerTransport::Conn {
  Conn(PeerTransport* t, bool out, NodeId id, uint32_t max_frame)
      : transport(t), outbound(out), peer(id), reader(max_frame) {
    handle.data = this;
    connect_req.data = this;
  }

  PeerTransport* const transport;
  const bool outbound;
  NodeId peer;  // outbound: the peer dialed; inbound: from the hello, 0 before
  uv_tcp_t handle;
  uv_connect_t connect_req;
  bool connected = false;   // outbound: the connect completed
  bool hello_sent = false;  // outbound: the hello went into a write
  bool hello_seen = false;  // inbound: the hello arrived
  bool writing = false;     // a WriteReq is in flight
  bool closing = false;
  uint64_t inflight_bytes = 0;  // bytes of the WriteReq in flight
  FrameReader reader;
};

// A known peer: its address, its send queue, its outgoing connection.
// Owned by peers_ (then by retired_peers_ until its timer handle closed).
// Invariant: out == nullptr or out->outbound && !out->closing.
struct PeerTransport::Peer {
  enum class State { kBackoff, kConnecting, kConnected };

  PeerTransport* transport = nullptr;
  NodeId id = 0;
  std::string host;
  uint16_t port = 0;
  uv_timer_t timer;  // backoff before a dial, or the connect timeout
  Conn* out = nullptr;
  State state = State::kBackoff;
  // Encoded frames not yet handed to a write, in order.
  std::vector<std::string> chunks;
  bool tail_open = false;  // chunks.back() is a shared chunk that accepts more
  uint64_t pending_bytes = 0;
  uint64_t pending_frames = 0;
  uint32_t backoff_ms = 0;
  bool ever_connected = false;
};

// One uv_write and the buffers it points to. Deleted by OnWrite.
struct PeerTransport::WriteReq {
  uv_write_t req;
  Conn* conn = nullptr;
  std::vector<std::string> chunks;
  std::vector<uv_buf_t> bufs;
  uint64_t bytes = 0;
};

PeerTransport::PeerTransport(uv_loop_t* loop, PeerTransportOptions options)
    : loop_(loop), options_(std::move(options)) {
  RINGKV_CHECK(options_.reconnect_min_ms > 0);
  RINGKV_CHECK(options_.reconnect_max_ms >= options_.reconnect_min_ms);
  rng_state_ = 0x9e3779b97f4a7c15ull ^ (options_.self * 0xbf58476d1ce4e5b9ull) ^
               reinterpret_cast<uintptr_t>(this);
  if (rng_state_ == 0) rng_state_ = 1;
  uv_prepare_init(loop_, &prepare_);
  prepare_.data = this;
  uv_prepare_start(&prepare_, OnFlushPass);
  uv_unref(reinterpret_cast<uv_handle_t*>(&prepare_));
  uv_check_init(loop_, &check_);
  check_.data = this;
  uv_check_start(&check_, OnFlushCheck);
  uv_unref(reinterpret_cast<uv_handle_t*>(&check_));
  open_handles_ = 2;
  listener_.data = this;
}

PeerTransport::~PeerTransport() {
  RINGKV_CHECK_MSG(closed_, "PeerTransport destroyed before Close() completed");
}

Status PeerTransport::Start() {
  RINGKV_CHECK(!started_ && !closing_);
  started_ = true;
  const std::string where = HostPort(options_.bind_host, options_.port);
  sockaddr_storage addr;
  if (!ParseAddress(options_.bind_host, options_.port, &addr)) {
    return Status::InvalidArgument("peer transport: bind address " + where +
                                   " is not a numeric IP address");
  }
  int rc = uv_tcp_init(loop_, &listener_);
  if (rc != 0) {
    return Status::IOError("peer transport: listen on " + where + ": " + uv_strerror(rc));
  }
  ++open_handles_;
  listener_open_ = true;
  rc = uv_tcp_bind(&listener_, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), kListenBacklog,
                              OnConnection);
  if (rc != 0) {
    return Status::IOError("peer transport: listen on " + where + ": " + uv_strerror(rc));
  }
  sockaddr_storage bound;
  int len = sizeof(bound);
  rc = uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&bound), &len);
  if (rc != 0) {
    return Status::IOError("peer transport: getsockname on " + where + ": " + uv_strerror(rc));
  }
  port_ = ntohs(bound.ss_family == AF_INET
                    ? reinterpret_cast<sockaddr_in&>(bound).sin_port
                    : reinterpret_cast<sockaddr_in6&>(bound).sin6_port);
  return Status::OK();
}

PeerTransport::Peer* PeerTransport::FindPeer(NodeId id) const {
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : it->second.get();
}

void PeerTransport::SetPeer(NodeId id, std::string host, uint16_t port) {
  if (closing_) return;
  Peer* p = FindPeer(id);
  if (p == nullptr) {
    auto owned = std::make_unique<Peer>();
    p = owned.get();
    p->transport = this;
    p->id = id;
    uv_timer_init(loop_, &p->timer);
    p->timer.data = p;
    ++open_handles_;
    peers_.emplace(id, std::move(owned));
  } else {
    if (p->host == host && p->port == port) return;
    uv_timer_stop(&p->timer);
    if (p->out != nullptr) CloseConn(p->out, /*reconnect=*/false);
    // The state handler run by CloseConn may have removed or changed the peer.
    p = FindPeer(id);
    if (p == nullptr || closing_) return;
    if (p->out != nullptr) return;
  }
  p->host = std::move(host);
  p->port = port;
  p->backoff_ms = options_.reconnect_min_ms;
  Dial(p);
}

void PeerTransport::RemovePeer(NodeId id) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  Peer* p = it->second.release();
  peers_.erase(it);
  dirty_.erase(id);
  retired_peers_.insert(p);
  uv_timer_stop(&p->timer);
  p->chunks.clear();
  p->pending_bytes = p->pending_frames = 0;
  // After the erase, CloseConn neither reconnects nor finds the peer again.
  if (p->out != nullptr) {
    Conn* c = p->out;
    p->out = nullptr;
    bool was_connected = c->connected;
    CloseConn(c, false);
    if (was_connected && !closing_ && state_handler_) state_handler_(id, false);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&p->timer), OnPeerTimerClosed);
}

void PeerTransport::OnPeerTimerClosed(uv_handle_t* handle) {
  auto* p = static_cast<Peer*>(handle->data);
  PeerTransport* t = p->transport;
  t->retired_peers_.erase(p);
  delete p;
  t->HandleClosed();
}

uint32_t PeerTransport::Jitter(uint32_t delay_ms) {
  // xorshift64: enough to keep peers that lost each other at the same moment
  // from redialing in lockstep.
  rng_state_ ^= rng_state_ << 13;
  rng_state_ ^= rng_state_ >> 7;
  rng_state_ ^= rng_state_ << 17;
  uint32_t half = delay_ms / 2;
  return half + static_cast<uint32_t>(rng_state_ % (delay_ms - half + 1));
}

void PeerTransport::ScheduleReconnect(Peer* p) {
  p->state = Peer::State::kBackoff;
  uint32_t delay = Jitter(p->backoff_ms);
  p->backoff_ms = static_cast<uint32_t>(
      std::min<uint64_t>(options_.reconnect_max_ms, uint64_t{p->backoff_ms} * 2));
  uv_timer_start(&p->timer, OnPeerTimer, delay, 0);
}

void PeerTransport::OnPeerTimer(uv_timer_t* timer) {
  auto* p = static_cast<Peer*>(timer->data);
  PeerTransport* t = p->transport;
  if (t->closing_) return;
  if (p->state == Peer::State::kBackoff) {
    t->Dial(p);
  } else if (p->state == Peer::State::kConnecting && p->out != nullptr) {
    t->last_error_ = "connect to peer " + std::to_string(p->id) + " timed out";
    t->CloseConn(p->out, true);
  }
}

void PeerTransport::Dial(Peer* p) {
  RINGKV_CHECK(p->out == nullptr);
  sockaddr_storage dst;
  if (!ParseAddress(p->host, p->port, &dst)) {
    last_error_ = "peer " + std::to_string(p->id) + " address " + HostPort(p->host, p->port) +
                  " is not a numeric IP address";
    ScheduleReconnect(p);
    return;
  }
  auto* c = new Conn(this, /*out=*/true, p->id, options_.max_frame_bytes);
  int rc = uv_tcp_init_ex(loop_, &c->handle, dst.ss_family);
  if (rc != 0) {
    delete c;
    last_error_ = std::string("socket: ") + uv_strerror(rc);
    ScheduleReconnect(p);
    return;
  }
  ++open_handles_;
  p->out = c;
  p->state = Peer::State::kConnecting;
  sockaddr_storage src;
  if (ParseAddress(options_.bind_host, 0, &src) && src.ss_family == dst.ss_family &&
      !IsWildcard(src)) {
#ifdef IP_BIND_ADDRESS_NO_PORT
    // Pick the source port at connect time (per destination), not at bind
    // time: many outgoing connections from one address then cannot run out of
    // ephemeral ports. Best effort; the bind works without it.
    uv_os_fd_t fd;
    if (src.ss_family == AF_INET && uv_fileno(reinterpret_cast<uv_handle_t*>(&c->handle), &fd) == 0) {
      int one = 1;
      (void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    }
#endif
    rc = uv_tcp_bind(&c->handle, reinterpret_cast<const sockaddr*>(&src), 0);
    if (rc != 0) {
      last_error_ = "bind source address " + options_.bind_host + ": " + uv_strerror(rc);
      CloseConn(c, true);
      return;
    }
  }
  rc = uv_tcp_connect(&c->connect_req, &c->handle, reinterpret_cast<const sockaddr*>(&dst),
                      OnConnect);
  if (rc != 0) {
    last_error_ = "connect to " + HostPort(p->host, p->port) + ": " + uv_strerror(rc);
    CloseConn(c, true);
    return;
  }
  uv_timer_start(&p->timer, OnPeerTimer, options_.connect_timeout_ms, 0);
}

void PeerTransport::OnConnect(uv_connect_t* req, int status) {
  auto* c = static_cast<Conn*>(req->data);
  PeerTransport* t = c->transport;
  if (c->closing) return;  // closed meanwhile (status is UV_ECANCELED)
  Peer* p = t->FindPeer(c->peer);
  RINGKV_CHECK(p != nullptr && p->out == c);
  if (status < 0) {
    t->last_error_ = "connect to " + HostPort(p->host, p->port) + ": " + uv_strerror(status);
    t->CloseConn(c, true);
    return;
  }
  uv_timer_stop(&p->timer);
  c->connected = true;
  p->state = Peer::State::kConnected;
  p->backoff_ms = t->options_.reconnect_min_ms;
  ++t->stats_.connects;
  if (p->ever_connected) ++t->stats_.reconnects;
  p->ever_connected = true;
  uv_tcp_nodelay(&c->handle, 1);
  uv_tcp_keepalive(&c->handle, 1, kKeepAliveSeconds);
#ifdef TCP_USER_TIMEOUT
  if (t->options_.user_timeout_ms > 0) {
    // Written data left unacknowledged this long fails the connection, so a
    // silently dead or cut-off peer is redialed instead of blocking our queue.
    uv_os_fd_t fd;
    if (uv_fileno(reinterpret_cast<uv_handle_t*>(&c->handle), &fd) == 0) {
      unsigned ms = t->options_.user_timeout_ms;
      (void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms));
    }
  }
#endif
  int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&c->handle), OnAlloc, OnRead);
  if (rc != 0) {
    t->CloseConn(c, true);
    return;
  }
  const NodeId id = p->id;
  if (t->state_handler_) t->state_handler_(id, true);
  // The handler may have closed, moved or removed this peer.
  p = t->FindPeer(id);
  if (c->closing || p == nullptr || p->out != c) return;
  t->Flush(p);  // the hello, and whatever queued while disconnected
}

void PeerTransport::OnConnection(uv_stream_t* server, int status) {
  auto* t = static_cast<PeerTransport*>(server->data);
  if (status < 0 || t->closing_) return;
  auto* c = new Conn(t, /*out=*/false, 0, t->options_.max_frame_bytes);
  if (uv_tcp_init(t->loop_, &c->handle) != 0) {
    delete c;
    return;
  }
  ++t->open_handles_;
  t->inbound_.insert(c);
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&c->handle)) != 0) {
    t->CloseConn(c, false);
    return;
  }
  uv_tcp_nodelay(&c->handle, 1);
  uv_tcp_keepalive(&c->handle, 1, kKeepAliveSeconds);
  if (uv_read_start(reinterpret_cast<uv_stream_t*>(&c->handle), OnAlloc, OnRead) != 0) {
    t->CloseConn(c, false);
  }
}

void PeerTransport::OnAlloc(uv_handle_t* handle, size_t /*suggested*/, uv_buf_t* buf) {
  auto* c = static_cast<Conn*>(handle->data);
  size_t size = 0;
  char* p = c->reader.WritableSpace(&size);
  buf->base = p;
  buf->len = size;
}

void PeerTransport::OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* /*buf*/) {
  auto* c = static_cast<Conn*>(stream->data);
  PeerTransport* t = c->transport;
  if (c->closing) return;
  if (nread > 0) {
    c->reader.Commit(static_cast<size_t>(nread));
    t->stats_.bytes_received += static_cast<uint64_t>(nread);
    t->Deliver(c);
    return;
  }
  if (nread == 0) return;  // EAGAIN
  // EOF or a read error: a frame cut short is bad input; a clean EOF is not.
  if (c->reader.buffered() > 0) {
    t->last_error_ = "connection closed inside a frame (" +
                     std::to_string(c->reader.buffered()) + " bytes buffered)";
    ++t->stats_.bad_frames;
  }
  t->CloseConn(c, true);
}

bool PeerTransport::Deliver(Conn* c) {
  FrameView f;
  std::string error;
  for (;;) {
    FrameReader::Status st = c->reader.Next(&f, &error);
    if (st == FrameReader::Status::kNeedMore) return true;
    if (st == FrameReader::Status::kBad) {
      BadFrame(c, error);
      return false;
    }
    if (f.channel == Channel::kHello) {
      NodeId from = 0;
      if (c->outbound || c->hello_seen) {
        BadFrame(c, c->outbound ? "hello on an outgoing connection" : "second hello");
        return false;
      }
      if (!DecodeHello(f.payload, &from)) {
        BadFrame(c, "bad hello");
        return false;
      }
      c->hello_seen = true;
      c->peer = from;
      continue;
    }
    if (!c->outbound && !c->hello_seen) {
      BadFrame(c, "data frame before the hello");
      return false;
    }
    ++stats_.frames_received;
    if (handler_) handler_(c->peer, f.channel, f.payload);
    if (c->closing || closing_) return false;
  }
}

void PeerTransport::BadFrame(Conn* c, const std::string& why) {
  ++stats_.bad_frames;
  last_error_ = (c->outbound ? "from peer " : "from inbound peer ") + std::to_string(c->peer) +
                ": " + why;
  CloseConn(c, true);
}

void PeerTransport::CloseConn(Conn* c, bool reconnect) {
  if (c->closing) return;
  c->closing = true;
  bool notify = false;
  NodeId id = c->peer;
  if (c->outbound) {
    Peer* p = FindPeer(id);
    if (p != nullptr && p->out == c) {
      p->out = nullptr;
      uv_timer_stop(&p->timer);
      notify = c->connected;
      if (closing_) {
        notify = false;
      } else if (reconnect) {
        ScheduleReconnect(p);
      } else {
        p->state = Peer::State::kBackoff;
      }
    }
  } else {
    inbound_.erase(c);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&c->handle), OnConnClosed);
  if (notify && state_handler_) state_handler_(id, false);
}

void PeerTransport::OnConnClosed(uv_handle_t* handle) {
  auto* c = static_cast<Conn*>(handle->data);
  PeerTransport* t = c->transport;
  delete c;
  t->HandleClosed();
}

bool PeerTransport::Send(NodeId to, Channel channel, std::string payload) {
  Peer* p = closing_ ? nullptr : FindPeer(to);
  const uint64_t size = kFrameHeaderSize + payload.size();
  if (p == nullptr || channel == Channel::kHello || payload.size() > options_.max_frame_bytes ||
      QueuedBytes(to) + size > options_.max_queued_bytes_per_peer) {
    ++stats_.drops;
    return false;
  }
  char header[kFrameHeaderSize];
  EncodeFrameHeader(header, channel, payload);
  if (payload.size() <= kCopyMax) {
    if (!p->tail_open || p->chunks.back().size() + size > kChunkTarget) {
      p->chunks.emplace_back();
      p->chunks.back().reserve(std::max<size_t>(size, 4096));
      p->tail_open = true;
    }
    std::string& tail = p->chunks.back();
    tail.append(header, kFrameHeaderSize);
    tail.append(payload);
  } else {
    if (p->tail_open) {
      p->chunks.back().append(header, kFrameHeaderSize);
    } else {
      p->chunks.emplace_back(header, kFrameHeaderSize);
    }
    p->chunks.push_back(std::move(payload));
    p->tail_open = false;
  }
  p->pending_bytes += size;
  ++p->pending_frames;
  dirty_.insert(to);
  return true;
}

void PeerTransport::Flush(Peer* p) {
  Conn* c = p->out;
  if (c == nullptr || !c->connected || c->closing || c->writing) return;
  if (c->hello_sent && p->chunks.empty()) return;
  auto* w = new WriteReq;
  w->req.data = w;
  w->conn = c;
  if (!c->hello_sent) {
    w->chunks.push_back(EncodeHelloFrame(options_.self));
    w->bytes += w->chunks.back().size();
    c->hello_sent = true;
  }
  for (std::string& chunk : p->chunks) w->chunks.push_back(std::move(chunk));
  w->bytes += p->pending_bytes;
  const uint64_t frames = p->pending_frames;
  p->chunks.clear();
  p->tail_open = false;
  p->pending_bytes = 0;
  p->pending_frames = 0;
  w->bufs.reserve(w->chunks.size());
  for (std::string& chunk : w->chunks) {
    w->bufs.push_back(uv_buf_init(chunk.data(), static_cast<unsigned>(chunk.size())));
  }
  ++stats_.writes;
  // Write what the socket takes now; only a remainder goes through uv_write.
  // A uv_write, even one the kernel takes at once, costs an epoll_ctl at the
  // next loop iteration (libuv re-arms the watcher when the queue drains):
  // about one system call more per replicated write.
  auto* stream = reinterpret_cast<uv_stream_t*>(&c->handle);
  int n = uv_try_write(stream, w->bufs.data(), static_cast<unsigned>(w->bufs.size()));
  if (n == UV_EAGAIN) n = 0;
  if (n < 0) {
    delete w;
    WriteFailed(c, n);
    return;
  }
  size_t written = static_cast<size_t>(n);
  if (written == w->bytes) {
    stats_.bytes_sent += w->bytes;
    stats_.frames_sent += frames;
    delete w;
    return;
  }
  size_t skip = 0;  // whole buffers the kernel took
  while (skip < w->bufs.size() && written >= w->bufs[skip].len) written -= w->bufs[skip++].len;
  RINGKV_CHECK_MSG(skip < w->bufs.size(), "peer write: the kernel took more than was queued");
  w->bufs[skip].base += written;
  w->bufs[skip].len -= written;
  c->writing = true;
  c->inflight_bytes = w->bytes;
  int rc = uv_write(&w->req, stream, w->bufs.data() + skip,
                    static_cast<unsigned>(w->bufs.size() - skip), OnWrite);
  if (rc != 0) {
    delete w;
    c->writing = false;
    c->inflight_bytes = 0;
    WriteFailed(c, rc);
    return;
  }
  stats_.frames_sent += frames;
}

void PeerTransport::WriteFailed(Conn* c, int rc) {
  last_error_ = std::string("write to peer ") + std::to_string(c->peer) + ": " + uv_strerror(rc);
  CloseConn(c, true);
}

void PeerTransport::OnWrite(uv_write_t* req, int status) {
  auto* w = static_cast<WriteReq*>(req->data);
  Conn* c = w->conn;
  PeerTransport* t = c->transport;
  c->writing = false;
  c->inflight_bytes = 0;
  if (status == 0) t->stats_.bytes_sent += w->bytes;
  delete w;
  if (c->closing) return;
  if (status < 0) {
    t->WriteFailed(c, status);
    return;
  }
  Peer* p = t->FindPeer(c->peer);
  if (p != nullptr && p->out == c && !p->chunks.empty()) t->dirty_.insert(p->id);
}

void PeerTransport::FlushAll() {
  if (dirty_.empty() || closing_) return;
  std::vector<NodeId> ids(dirty_.begin(), dirty_.end());
  dirty_.clear();
  for (NodeId id : ids) {
    Peer* p = FindPeer(id);
    if (p == nullptr) continue;
    Flush(p);
    // Not connected yet or a write in flight: OnConnect / OnWrite come back.
    if (closing_) return;
  }
}

void PeerTransport::OnFlushPass(uv_prepare_t* prepare) {
  static_cast<PeerTransport*>(prepare->data)->FlushAll();
}

void PeerTransport::OnFlushCheck(uv_check_t* check) {
  static_cast<PeerTransport*>(check->data)->FlushAll();
}

bool PeerTransport::Connected(NodeId id) const {
  Peer* p = FindPeer(id);
  return p != nullptr && p->out != nullptr && p->out->connected;
}

uint64_t PeerTransport::QueuedBytes(NodeId id) const {
  Peer* p = FindPeer(id);
  if (p == nullptr) return 0;
  uint64_t bytes = p->pending_bytes;
  if (p->out != nullptr && p->out->writing) bytes += p->out->inflight_bytes;
  return bytes;
}

void PeerTransport::Close(std::function<void()> on_closed) {
  if (closing_) return;
  closing_ = true;
  on_closed_ = std::move(on_closed);
  dirty_.clear();
  std::vector<NodeId> ids;
  ids.reserve(peers_.size());
  for (auto& [id, p] : peers_) ids.push_back(id);
  for (NodeId id : ids) RemovePeer(id);
  std::vector<Conn*> inbound(inbound_.begin(), inbound_.end());
  for (Conn* c : inbound) CloseConn(c, false);
  if (listener_open_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), OnOwnHandleClosed);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&prepare_), OnOwnHandleClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&check_), OnOwnHandleClosed);
}

void PeerTransport::OnOwnHandleClosed(uv_handle_t* handle) {
  static_cast<PeerTransport*>(handle->data)->HandleClosed();
}

void PeerTransport::HandleClosed() {
  RINGKV_CHECK(open_handles_ > 0);
  --open_handles_;
  if (closing_ && open_handles_ == 0) {
    closed_ = true;
    std::function<void()> cb = std::move(on_closed_);
    on_closed_ = nullptr;
    if (cb) cb();
  }
}

}  // namespace ringkv::server::peer
