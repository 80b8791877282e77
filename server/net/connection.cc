// Connection I/O: in-place parsing from a stable read buffer, replies
// gathered per loop iteration, backpressure, limits.
#include "server/net/connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "server/commands/command.h"
#include "server/config/config.h"
#include "server/dispatcher.h"
#include "server/log.h"
#include "server/loop/loop_thread.h"
#include "server/net/client_registry.h"
#include "server/server_context.h"
#include "server/server_stats.h"

namespace ringkv::server {

namespace {

constexpr size_t kInitialReadBuffer = 16 * 1024;
// A read always gets at least this much room, so a read never delivers a sliver.
constexpr size_t kMinReadRoom = 4 * 1024;
// Buffers above this are released when the connection is idle.
constexpr size_t kTrimAbove = 1 << 20;
// Unparsed input a connection keeps while the ordering gate holds its next
// command (replies outstanding): past this it stops reading, so a client
// pipelining faster than Raft commits waits in its socket, not in our memory.
constexpr size_t kHeldInputBytes = 1 << 20;

std::string FormatAddr(const sockaddr_storage& ss) {
  char ip[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
    port = ntohs(a->sin_port);
    return std::string(ip) + ":" + std::to_string(port);
  }
  if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
    port = ntohs(a->sin6_port);
    return "[" + std::string(ip) + "]:" + std::to_string(port);
  }
  return "unix:0";
}

RespLimits LimitsFor(uint64_t max_bulk_len) {
  RespLimits l;
  l.max_bulk_len = static_cast<int64_t>(max_bulk_len);
  return l;
}

}  // namespace

Connection::Connection(LoopThread* loop, uint64_t max_bulk_len)
    : loop_(loop), parser_(LimitsFor(max_bulk_len)), reply_(&out_) {
  uv_tcp_init(loop->loop(), &handle_);
  handle_.data = this;
  write_req_.data = this;
}

void Connection::Start(int64_t now_ms) {
  ServerContext* server = loop_->server();
  uv_tcp_nodelay(&handle_, 1);
  int64_t keepalive = LoadRelaxed(server->config->tcp_keepalive);
  if (keepalive > 0) uv_tcp_keepalive(&handle_, 1, static_cast<unsigned>(keepalive));
  sockaddr_storage ss;
  int len = sizeof(ss);
  if (uv_tcp_getpeername(&handle_, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    client_.addr = FormatAddr(ss);
  }
  len = sizeof(ss);
  if (uv_tcp_getsockname(&handle_, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    client_.laddr = FormatAddr(ss);
  }
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&handle_), &fd) == 0) client_.fd = fd;
  client_.ctime_ms = now_ms;
  client_.last_interaction_ms.store(now_ms, std::memory_order_relaxed);
  client_.thread_index = loop_->index();
  client_.waker = loop_;
  {
    std::lock_guard<std::mutex> lock(ConfigMutex());
    client_.authenticated = server->config->requirepass.empty();
  }
  server->clients->Add(&client_);
  rbuf_.reset(new char[kInitialReadBuffer]);
  rcap_ = kInitialReadBuffer;
  reading_ = true;
  uv_read_start(reinterpret_cast<uv_stream_t*>(&handle_), OnAlloc, OnRead);
}

void Connection::EnsureReadSpace() {
  size_t used = rend_ - rstart_;
  size_t want = kMinReadRoom;
  size_t hint = parser_.bytes_hint();
  if (hint > used) want = std::max(want, hint - used);
  if (rcap_ - rend_ >= want) return;
  if (rstart_ > 0 && rcap_ - used >= want) {
    std::memmove(rbuf_.get(), rbuf_.get() + rstart_, used);
    rstart_ = 0;
    rend_ = used;
    return;
  }
  size_t cap = rcap_ * 2;
  while (cap < used + want) cap *= 2;
  std::unique_ptr<char[]> bigger(new char[cap]);
  std::memcpy(bigger.get(), rbuf_.get() + rstart_, used);
  rbuf_ = std::move(bigger);
  rcap_ = cap;
  rstart_ = 0;
  rend_ = used;
}

void Connection::OnAlloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(h->data);
  c->EnsureReadSpace();
  buf->base = c->rbuf_.get() + c->rend_;
  buf->len = c->rcap_ - c->rend_;
}

void Connection::OnRead(uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
  auto* c = static_cast<Connection*>(s->data);
  if (nread < 0) {
    c->Close();
    return;
  }
  if (nread == 0) return;  // EAGAIN
  c->rend_ += static_cast<size_t>(nread);
  LoopStats* st = c->loop_->stats();
  st->net_input_bytes.Add(static_cast<uint64_t>(nread));
  st->reads_processed.Add(1);
  c->ProcessInput();
}

void Connection::ProcessInput() {
  ServerContext* server = loop_->server();
  int64_t now_ms = loop_->RefreshNow();
  client_.last_interaction_ms.store(now_ms, std::memory_order_relaxed);
  reply_.set_resp_version(client_.resp);
  // Backpressure inside one read: stop parsing once this client's unsent
  // output passes the pause limit; the rest of the input waits in rbuf_ and is
  // processed when the writes drain (OnWrite).
  const size_t pause_bytes =
      static_cast<size_t>(LoadRelaxed(server->config->client_output_pause_bytes));
  while (rstart_ < rend_ && !client_.close_after_reply && !closing_ &&
         pending_output() <= pause_bytes) {
    parser_.set_auth_required(!client_.authenticated);
    size_t consumed = 0;
    RespParser::Status st = parser_.Parse(rbuf_.get() + rstart_, rend_ - rstart_, &consumed);
    if (st == RespParser::Status::kIncomplete) break;
    if (st == RespParser::Status::kError) {
      reply_.set_buffer(slots_.empty() ? &out_ : &slots_.back().bytes);
      std::string msg = "ERR " + parser_.error();
      reply_.Error(msg);
      loop_->stats()->error_replies.Add(1);
      Log(LogLevel::kVerbose, "Protocol error (%s) from client: id=%llu addr=%s",
          parser_.error().c_str(), static_cast<unsigned long long>(client_.id),
          client_.addr.c_str());
      client_.close_after_reply = true;
      rstart_ = rend_;
      break;
    }
    auto args = parser_.args();
    if (!args.empty()) {
      // Ordering gate: see the header comment. The command stays in rbuf_
      // and is parsed again once the outstanding replies arrived.
      if (outstanding_ > 0 && !MayDispatchWhileWaiting(args[0])) break;
      reply_.set_buffer(slots_.empty() ? &out_ : &slots_.back().bytes);
      dispatching_bytes_ = consumed;
      held_by_gate_ = false;
      Dispatch(server, loop_->stats(), &client_, &reply_, args, now_ms, this);
      dispatching_bytes_ = 0;
    }
    rstart_ += consumed;
  }
  if (rstart_ == rend_) rstart_ = rend_ = 0;
  client_.query_buffer_bytes.store(rend_ - rstart_, std::memory_order_relaxed);
  if (static_cast<int64_t>(rend_ - rstart_) > LoadRelaxed(server->config->client_query_buffer_limit)) {
    Log(LogLevel::kWarning, "Closing client that reached max query buffer length: id=%llu addr=%s",
        static_cast<unsigned long long>(client_.id), client_.addr.c_str());
    Close();
    return;
  }
  if (FlushDue()) ScheduleFlush();
  if (client_.close_after_reply && reading_) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&handle_));
    reading_ = false;
  }
  UpdateReading();
}

bool Connection::FlushDue() const {
  if (client_.close_after_reply) return true;
  if (out_.empty()) return false;
  // Replies of a pipeline whose later commands are still out (a Raft commit,
  // another node) go out with theirs: one write for the batch instead of one
  // per partial completion. Each of those replies arrives in bounded time
  // (forward timeout, leaderless wait), and a large batch goes out anyway.
  return outstanding_ == 0 || out_.size() >= kEagerFlushBytes;
}

void Connection::ScheduleFlush() {
  if (!in_flush_list && !closing_) loop_->AddToFlushList(this);
}

void Connection::UpdateReading() {
  if (closing_ || client_.close_after_reply) return;
  int64_t limit = LoadRelaxed(loop_->server()->config->client_output_pause_bytes);
  const bool output_full = static_cast<int64_t>(pending_output()) > limit;
  // Input waiting behind outstanding replies waits in the socket past kHeldInputBytes.
  const bool input_held = outstanding_ > 0 && rend_ - rstart_ > kHeldInputBytes;
  const bool pause = output_full || input_held;
  client_.output_buffer_bytes.store(pending_output(), std::memory_order_relaxed);
  if (pause && reading_) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&handle_));
    reading_ = false;
  } else if (!pause && !reading_) {
    reading_ = true;
    uv_read_start(reinterpret_cast<uv_stream_t*>(&handle_), OnAlloc, OnRead);
  }
}

void Connection::Flush() {
  if (closing_ || writing_) return;
  if (out_.empty()) {
    // A closing client still gets the replies it is owed.
    if (client_.close_after_reply && slots_.empty()) Close();
    return;
  }
  uv_buf_t buf = uv_buf_init(out_.data(), static_cast<unsigned>(out_.size()));
  int n = uv_try_write(reinterpret_cast<uv_stream_t*>(&handle_), &buf, 1);
  LoopStats* st = loop_->stats();
  st->writes_processed.Add(1);
  if (n == UV_EAGAIN) n = 0;
  if (n < 0) {
    Close();
    return;
  }
  size_t written = static_cast<size_t>(n);
  st->net_output_bytes.Add(written);
  if (written == out_.size()) {
    out_.clear();
    client_.output_buffer_bytes.store(0, std::memory_order_relaxed);
    if (client_.close_after_reply && slots_.empty()) {
      Close();
      return;
    }
    if (rstart_ < rend_) {
      ProcessInput();  // input parked by backpressure
      return;
    }
    UpdateReading();
    return;
  }
  // The kernel took part of it: hand the rest to libuv and gather new replies
  // in the (recycled) other buffer meanwhile.
  inflight_.swap(out_);
  out_.clear();
  inflight_off_ = written;
  writing_ = true;
  uv_buf_t rest = uv_buf_init(inflight_.data() + written,
                              static_cast<unsigned>(inflight_.size() - written));
  int rc = uv_write(&write_req_, reinterpret_cast<uv_stream_t*>(&handle_), &rest, 1, OnWrite);
  if (rc != 0) {
    writing_ = false;
    Close();
    return;
  }
  UpdateReading();
}

void Connection::OnWrite(uv_write_t* req, int status) {
  auto* c = static_cast<Connection*>(req->data);
  c->writing_ = false;
  if (status < 0 || c->closing_) {
    c->Close();
    return;
  }
  c->loop_->stats()->net_output_bytes.Add(c->inflight_.size() - c->inflight_off_);
  c->inflight_.clear();
  c->inflight_off_ = 0;
  if (c->rstart_ < c->rend_ && !c->client_.close_after_reply) {
    // Input parked by backpressure: run it now that output drained.
    c->ProcessInput();
    if (c->closing_) return;
  }
  if (!c->out_.empty() || c->client_.close_after_reply) {
    c->Flush();
  } else {
    c->UpdateReading();
  }
}

ReplyCallback Connection::Defer(bool is_write) {
  uint64_t ticket = next_ticket_++;
  // A reply under CLIENT REPLY OFF/SKIP is dropped when it arrives.
  bool drop = client_.reply_mode == ReplyMode::kOff || client_.reply_mode == ReplyMode::kSkip;
  const uint32_t write_bytes =
      is_write ? static_cast<uint32_t>(std::min<size_t>(dispatching_bytes_, UINT32_MAX)) : 0;
  loop_->AddPendingWriteBytes(write_bytes);
  slots_.push_back(Slot{ticket, false, write_bytes, {}});
  // Replies of later commands gather behind it.
  slots_.push_back(Slot{0, true, 0, {}});
  ++outstanding_;
  if (!is_write) ++outstanding_reads_;
  std::weak_ptr<Connection*> weak = self_ref_;
  LoopThread* loop = loop_;
  return [loop, weak, ticket, drop, is_write](std::string reply) {
    if (drop) reply.clear();
    loop->Post([weak, ticket, is_write, reply = std::move(reply)]() mutable {
      std::shared_ptr<Connection*> alive = weak.lock();
      if (!alive) return;
      Connection* c = *alive;
      if (!is_write) --c->outstanding_reads_;
      c->CompleteDeferred(ticket, std::move(reply));
    });
  };
}

void Connection::CompleteDeferred(uint64_t ticket, std::string reply) {
  if (closing_) return;
  for (Slot& slot : slots_) {
    if (slot.ticket == ticket) {
      slot.bytes = std::move(reply);
      slot.ready = true;
      --outstanding_;
      loop_->AddPendingWriteBytes(-static_cast<int64_t>(slot.write_bytes));
      slot.write_bytes = 0;
      break;
    }
  }
  while (!slots_.empty() && slots_.front().ready) {
    out_.append(slots_.front().bytes);
    slots_.pop_front();
  }
  if (FlushDue()) ScheduleFlush();
  // Input held back by the ordering gate can run now.
  if (outstanding_ == 0 && rstart_ < rend_ && !client_.close_after_reply) ProcessInput();
}

bool Connection::MayDispatchWhileWaiting(std::string_view command_name) {
  if (outstanding_ >= kMaxOutstanding) return false;
  const CommandSpec* spec = loop_->server()->commands->Find(command_name);
  if (spec == nullptr) return false;
  // A write follows writes: their shards' logs order them.
  if ((spec->flags & kCmdWrite) != 0) {
    if (outstanding_reads_ != 0) return false;
    if (loop_->PendingWritesOverBound()) {
      if (!held_by_gate_) loop_->stats()->write_gate_holds.Add(1);
      held_by_gate_ = true;
      return false;
    }
    return true;
  }
  // A read of keys follows reads: pipelined reads overlap in time, so any
  // order of execution is linearizable. Behind a write it waits, so it sees
  // the write.
  const bool keyed_read = (spec->flags & kCmdReadonly) != 0 && spec->first_key > 0;
  return keyed_read && outstanding_reads_ == outstanding_;
}

void Connection::TrimBuffers() {
  if (writing_ || closing_) return;
  if (out_.empty() && out_.capacity() > kTrimAbove) std::string().swap(out_);
  if (inflight_.capacity() > kTrimAbove) std::string().swap(inflight_);
  if (rstart_ == rend_ && rcap_ > kTrimAbove) {
    rbuf_.reset(new char[kInitialReadBuffer]);
    rcap_ = kInitialReadBuffer;
    rstart_ = rend_ = 0;
  }
}

void Connection::Close() {
  if (closing_) return;
  closing_ = true;
  // Replies still owed are dropped when they come: their bytes stop counting now.
  for (Slot& slot : slots_) loop_->AddPendingWriteBytes(-static_cast<int64_t>(slot.write_bytes));
  loop_->server()->clients->Remove(&client_);
  loop_->Forget(this);
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_), OnClose);
}

void Connection::OnClose(uv_handle_t* h) { delete static_cast<Connection*>(h->data); }

}  // namespace ringkv::server
