// ClientRegistry: every live client of the process, for CLIENT LIST / KILL /
// INFO clients and maxclients. Thread-safe (one mutex; touched on connect,
// disconnect and by admin commands, never per command).
#pragma once

#include <atomic>
#include <cstdint>
#include <algorithm>
#include <functional>
#include <vector>
#include <mutex>
#include <unordered_map>

#include "server/client_state.h"

namespace ringkv::server {

class ClientRegistry {
 public:
  // Assigns client->id and registers it. The client must stay alive until Remove.
  void Add(ClientState* client) {
    std::lock_guard<std::mutex> lock(mu_);
    client->id = next_id_++;
    clients_[client->id] = client;
    count_.store(clients_.size(), std::memory_order_relaxed);
  }
  void Remove(ClientState* client) {
    std::lock_guard<std::mutex> lock(mu_);
    clients_.erase(client->id);
    count_.store(clients_.size(), std::memory_order_relaxed);
  }
  size_t count() const { return count_.load(std::memory_order_relaxed); }

  // Calls fn for every client, in id order, under the registry mutex (so fn may
  // read the guarded strings, and the clients cannot go away meanwhile).
  void ForEach(const std::function<void(ClientState&)>& fn) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<ClientState*> sorted;
    sorted.reserve(clients_.size());
    for (auto& [id, c] : clients_) sorted.push_back(c);
    std::sort(sorted.begin(), sorted.end(),
              [](ClientState* a, ClientState* b) { return a->id < b->id; });
    for (ClientState* c : sorted) fn(*c);
  }

  // Asks the owning loop of each client for which `pred` holds to close it.
  // `self` (may be nullptr) is closed after its reply instead. Returns how many.
  size_t Kill(const std::function<bool(const ClientState&)>& pred, ClientState* self) {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (auto& [id, c] : clients_) {
      if (!pred(*c)) continue;
      ++n;
      if (c == self) {
        c->close_after_reply = true;
      } else {
        c->kill_requested.store(true, std::memory_order_relaxed);
        if (c->waker != nullptr) c->waker->Wake();
      }
    }
    return n;
  }

  std::mutex& mu() { return mu_; }
  uint64_t next_id() const { return next_id_; }

 private:
  std::mutex mu_;
  std::unordered_map<uint64_t, ClientState*> clients_;
  uint64_t next_id_ = 1;
  std::atomic<size_t> count_{0};
};

}  // namespace ringkv::server
