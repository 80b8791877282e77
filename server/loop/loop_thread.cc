// LoopThread: accept, flush-before-poll, cron (active expiry, timeouts,
// stats sampling), cross-thread wake-ups and the clean stop.
#include "server/loop/loop_thread.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <string>

#include "server/config/config.h"
#include "server/log.h"
#include "server/net/client_registry.h"
#include "server/net/connection.h"
#include "server/server_context.h"
#include "server/server_stats.h"
#include "server/shard/shard_set.h"
#include "server/thread_name.h"

namespace ringkv::server {

namespace {
// The loop whose callbacks this thread is running: Post from it needs no
// wakeup (see Post).
thread_local LoopThread* t_current_loop = nullptr;

constexpr std::string_view kMaxClientsError = "-ERR max number of clients reached\r\n";

int64_t WallMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

Result<int> BindListener(const std::string& addr, int port, int backlog, int* bound_port) {
  sockaddr_storage ss;
  std::memset(&ss, 0, sizeof(ss));
  socklen_t len;
  int family;
  if (addr.find(':') != std::string::npos) {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (inet_pton(AF_INET6, addr.c_str(), &a6->sin6_addr) != 1) {
      return Status::InvalidArgument("bad bind address '" + addr + "'");
    }
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof(sockaddr_in6);
    family = AF_INET6;
  } else {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
    if (inet_pton(AF_INET, addr.c_str(), &a4->sin_addr) != 1) {
      return Status::InvalidArgument("bad bind address '" + addr + "'");
    }
    a4->sin_family = AF_INET;
    a4->sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof(sockaddr_in);
    family = AF_INET;
  }
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IOError(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  // Every loop thread listens on its own socket bound to the same port; the
  // kernel spreads new connections over them.
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || listen(fd, backlog) != 0) {
    std::string err = std::strerror(errno);
    close(fd);
    return Status::IOError("Could not create server TCP listening socket " + addr + ":" +
                           std::to_string(port) + ": " + err);
  }
  socklen_t slen = sizeof(ss);
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &slen);
  *bound_port = family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                   : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return fd;
}

LoopThread::LoopThread(ServerContext* server, uint32_t index, uint32_t threads)
    : server_(server), index_(index), threads_(threads), stats_(server->stats->loop(index)) {}

LoopThread::~LoopThread() {
  for (int fd : listen_fds_) close(fd);
}

Status LoopThread::Start() {
  if (uv_loop_init(&own_loop_) != 0) return Status::IOError("uv_loop_init failed");
  own_loop_.data = this;
  loop_ = &own_loop_;
  RINGKV_RETURN_IF_ERROR(InitHandles());
  thread_ = std::thread([this] { Run(); });
  return Status::OK();
}

Status LoopThread::StartOn(ExternalLoop external) {
  if (external.loop == nullptr) return Status::InvalidArgument("no loop to share");
  loop_ = external.loop;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Status status;
  const bool posted = external.post([&] {
    t_current_loop = this;
    Status s = InitHandles();
    std::lock_guard<std::mutex> l(mu);
    status = s;
    done = true;
    cv.notify_all();
  });
  if (!posted) return Status::IOError("the shared loop is not running");
  std::unique_lock<std::mutex> l(mu);
  cv.wait(l, [&] { return done; });
  return status;
}

Status LoopThread::InitHandles() {
  uv_prepare_init(loop_, &prepare_);
  prepare_.data = this;
  uv_prepare_start(&prepare_, OnPrepare);
  uv_idle_init(loop_, &idle_);
  idle_.data = this;
  uv_async_init(loop_, &async_, OnAsync);
  async_.data = this;
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
  current_hz_ = LoadRelaxed(server_->config->hz);
  uint64_t period = static_cast<uint64_t>(1000 / current_hz_);
  uv_timer_start(&timer_, OnTimer, period, period);
  for (int fd : listen_fds_) {
    auto* l = new uv_tcp_t;
    uv_tcp_init(loop_, l);
    l->data = this;
    int rc = uv_tcp_open(l, fd);
    if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(l),
                                static_cast<int>(LoadRelaxed(server_->config->tcp_backlog)),
                                OnConnection);
    if (rc != 0) return Status::IOError(std::string("uv_listen: ") + uv_strerror(rc));
    listeners_.push_back(l);
  }
  listen_fds_.clear();  // owned by the uv handles now
  now_ms_ = WallMs();
  return Status::OK();
}

void LoopThread::Run() {
  NameThisThread(("rk-loop-" + std::to_string(index_)).c_str());
  t_current_loop = this;
  uv_run(loop_, UV_RUN_DEFAULT);
  // Every handle is closed; run once more so their close callbacks finish.
  uv_run(loop_, UV_RUN_NOWAIT);
  uv_loop_close(loop_);
}

void LoopThread::RequestStop() {
  stop_requested_.store(true);
  uv_async_send(&async_);
}

void LoopThread::Join() {
  if (thread_.joinable()) thread_.join();
  if (loop_ != &own_loop_) {
    // The sharing thread goes on; what is left of our handles' closing
    // finishes on it (this object must outlive that thread's loop).
    std::unique_lock<std::mutex> lock(post_mu_);
    stopped_cv_.wait(lock, [this] { return post_closed_; });
  }
}

void LoopThread::Wake() { uv_async_send(&async_); }

struct LoopThread::DelayedTask {
  uv_timer_t timer;
  LoopThread* owner;
  std::function<void()> task;
};

LoopThread* LoopThread::Current() { return t_current_loop; }

// Closes a RunAfter timer; the task is freed once libuv is done with it.
void LoopThread::CloseDelayed(DelayedTask* d) {
  uv_close(reinterpret_cast<uv_handle_t*>(&d->timer),
           [](uv_handle_t* h) { delete static_cast<DelayedTask*>(h->data); });
}

void LoopThread::RunAfter(uint64_t delay_ms, std::function<void()> task) {
  if (stopping_) return;
  auto* d = new DelayedTask{{}, this, std::move(task)};
  uv_timer_init(loop_, &d->timer);
  d->timer.data = d;
  delayed_.insert(d);
  uv_timer_start(&d->timer, [](uv_timer_t* t) {
    auto* d = static_cast<DelayedTask*>(t->data);
    d->owner->delayed_.erase(d);
    std::function<void()> task = std::move(d->task);
    CloseDelayed(d);
    task();
  }, delay_ms, 0);
}

void LoopThread::Post(std::function<void()> task) {
  if (t_current_loop == this) {
    // From this loop's own thread (the replication thread sharing it): run
    // before the next flush, no wakeup. The idle handle keeps the poll in
    // between from blocking when this comes after the prepare phase.
    if (stopping_) return;
    local_posted_.push_back(std::move(task));
    if (!idle_active_) {
      uv_idle_start(&idle_, OnIdle);
      idle_active_ = true;
    }
    return;
  }
  {
    std::lock_guard<std::mutex> lock(post_mu_);
    if (post_closed_) return;
    posted_.push_back(std::move(task));
  }
  uv_async_send(&async_);
}

int64_t LoopThread::RefreshNow() {
  now_ms_ = WallMs();
  return now_ms_;
}

void LoopThread::AddPendingWriteBytes(int64_t delta) {
  std::atomic<int64_t>& pending = stats_->pending_write_bytes;
  pending.store(pending.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
}

bool LoopThread::PendingWritesOverBound() const {
  const int64_t bound = server_->config->cluster.max_pending_write_bytes;
  return bound > 0 && stats_->pending_write_bytes.load(std::memory_order_relaxed) > bound;
}

void LoopThread::AddToFlushList(Connection* c) {
  c->in_flush_list = true;
  flush_list_.push_back(c);
}

void LoopThread::Forget(Connection* c) {
  conns_.erase(c);
  if (c->in_flush_list) {
    flush_list_.erase(std::remove(flush_list_.begin(), flush_list_.end(), c), flush_list_.end());
    c->in_flush_list = false;
  }
}

void LoopThread::OnConnection(uv_stream_t* listener, int status) {
  auto* self = static_cast<LoopThread*>(listener->data);
  if (status < 0 || self->stopping_) return;
  ServerContext* server = self->server_;
  auto* conn = new Connection(self, static_cast<uint64_t>(
                                        LoadRelaxed(server->config->proto_max_bulk_len)));
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(conn->handle())) != 0) {
    conn->Close();
    return;
  }
  server->stats->total_connections_received.fetch_add(1, std::memory_order_relaxed);
  if (static_cast<int64_t>(server->clients->count()) >= LoadRelaxed(server->config->maxclients)) {
    // As Redis: tell the client why, then close.
    uv_buf_t buf = uv_buf_init(const_cast<char*>(kMaxClientsError.data()),
                               static_cast<unsigned>(kMaxClientsError.size()));
    uv_try_write(reinterpret_cast<uv_stream_t*>(conn->handle()), &buf, 1);
    server->stats->rejected_connections.fetch_add(1, std::memory_order_relaxed);
    conn->Close();
    return;
  }
  self->conns_.insert(conn);
  conn->Start(self->RefreshNow());
}

void LoopThread::OnPrepare(uv_prepare_t* p) {
  auto* self = static_cast<LoopThread*>(p->data);
  while (!self->local_posted_.empty() && !self->stopping_) {
    std::vector<std::function<void()>> tasks;
    tasks.swap(self->local_posted_);
    for (auto& task : tasks) task();
  }
  if (self->flush_list_.empty()) {
    if (self->idle_active_) {
      uv_idle_stop(&self->idle_);
      self->idle_active_ = false;
    }
    return;
  }
  // Flush may close a connection (which edits flush_list_), so work on a copy.
  self->flushing_.swap(self->flush_list_);
  for (Connection* c : self->flushing_) c->in_flush_list = false;
  for (Connection* c : self->flushing_) {
    if (!c->closing()) c->Flush();
  }
  self->flushing_.clear();
  // A flush that resumed parked input queued new output: poll must not block.
  bool more = !self->flush_list_.empty() || !self->local_posted_.empty();
  if (more && !self->idle_active_) {
    uv_idle_start(&self->idle_, OnIdle);
    self->idle_active_ = true;
  } else if (!more && self->idle_active_) {
    uv_idle_stop(&self->idle_);
    self->idle_active_ = false;
  }
}

void LoopThread::OnIdle(uv_idle_t*) {}

void LoopThread::OnTimer(uv_timer_t* t) { static_cast<LoopThread*>(t->data)->Cron(); }

void LoopThread::Cron() {
  int64_t now = RefreshNow();
  int64_t hz = LoadRelaxed(server_->config->hz);
  if (hz != current_hz_) {
    current_hz_ = hz;
    uv_timer_set_repeat(&timer_, static_cast<uint64_t>(1000 / hz));
  }
  // Active expiry: Redis's slow cycle, 25% of each timer period.
  int64_t budget_us = 25 * 1000000 / hz / 100;
  // In cluster mode expired keys are deleted through the log (cluster_node.cc).
  if (!Keyspace::replicated()) server_->shards->ActiveExpireCycle(index_, threads_, now, budget_us);

  if (index_ == 0 && now - last_ops_sample_ms_ >= 1000) {
    uint64_t ops = server_->stats->Sum([](LoopStats& l) -> RelaxedCounter& { return l.commands_processed; });
    if (last_ops_sample_ms_ != 0) {
      int64_t dt = now - last_ops_sample_ms_;
      int64_t rate = dt > 0 ? static_cast<int64_t>((ops - last_ops_count_) * 1000 / static_cast<uint64_t>(dt)) : 0;
      server_->stats->instantaneous_ops_per_sec.store(rate, std::memory_order_relaxed);
    }
    last_ops_sample_ms_ = now;
    last_ops_count_ = ops;
  }
  if (now - last_timeout_check_ms_ >= 1000) {
    last_timeout_check_ms_ = now;
    int64_t timeout_s = LoadRelaxed(server_->config->timeout);
    std::vector<Connection*> idle;
    for (Connection* c : conns_) {
      int64_t last = c->client().last_interaction_ms.load(std::memory_order_relaxed);
      if (timeout_s > 0 && c->pending_output() == 0 && now - last > timeout_s * 1000) {
        idle.push_back(c);
      } else {
        c->TrimBuffers();
      }
    }
    for (Connection* c : idle) {
      Log(LogLevel::kVerbose, "Closing idle client id=%llu", static_cast<unsigned long long>(c->client().id));
      c->Close();
    }
  }
}

void LoopThread::OnAsync(uv_async_t* a) {
  auto* self = static_cast<LoopThread*>(a->data);
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(self->post_mu_);
    tasks.swap(self->posted_);
  }
  for (auto& task : tasks) task();
  std::vector<Connection*> killed;
  for (Connection* c : self->conns_) {
    if (c->client().kill_requested.load(std::memory_order_relaxed)) killed.push_back(c);
  }
  for (Connection* c : killed) c->Close();
  if (self->stop_requested_.load() && !self->stopping_) self->BeginStop();
}

void LoopThread::BeginStop() {
  stopping_ = true;
  local_posted_.clear();
  {
    std::lock_guard<std::mutex> lock(post_mu_);
    post_closed_ = true;
    posted_.clear();
  }
  stopped_cv_.notify_all();
  for (uv_tcp_t* l : listeners_) {
    uv_close(reinterpret_cast<uv_handle_t*>(l),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
  }
  listeners_.clear();
  // Best effort: push out replies already computed, then close every client.
  std::vector<Connection*> all(conns_.begin(), conns_.end());
  for (Connection* c : all) c->Flush();
  all.assign(conns_.begin(), conns_.end());
  for (Connection* c : all) c->Close();
  for (DelayedTask* d : delayed_) CloseDelayed(d);
  delayed_.clear();
  uv_close(reinterpret_cast<uv_handle_t*>(&prepare_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
}

}  // namespace ringkv::server
