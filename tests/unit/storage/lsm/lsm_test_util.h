// Helpers shared by the LSM tests: a one-thread BackgroundScheduler,
// deterministic key/value generators and a whole-contents check against a
// std::map model.
#pragma once

#include <catch2/catch.hpp>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "storage/engine.h"

namespace ringkv::storage::lsm::testing {

// Runs scheduled tasks on one worker thread, in order. The destructor runs
// every queued task before joining, so engines must be destroyed first.
class ThreadScheduler final : public BackgroundScheduler {
 public:
  ThreadScheduler() : worker_([this] { Loop(); }) {}
  ~ThreadScheduler() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  void Schedule(std::function<void()> task) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> l(mu_);
    while (true) {
      cv_.wait(l, [&] { return stop_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stop_ and drained
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      l.unlock();
      task();
      l.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stop_ = false;
  std::thread worker_;
};

inline std::string KeyOf(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key%08llu", static_cast<unsigned long long>(i));
  return buf;
}

inline std::string ValueOf(uint64_t i, uint64_t version, size_t len = 20) {
  std::string v = "v" + std::to_string(i) + "." + std::to_string(version) + ":";
  while (v.size() < len) v.push_back(static_cast<char>('a' + (i + v.size()) % 26));
  return v;
}

// Every pair the iterator shows from its first, in order, against the model:
// same keys, same values, nothing more, and no iterator error.
inline void CheckIteratorAgainstModel(Iterator* it, const std::map<std::string, std::string>& model) {
  auto m = model.begin();
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++m) {
    REQUIRE(m != model.end());
    REQUIRE(it->key() == m->first);
    REQUIRE(it->value() == m->second);
  }
  REQUIRE(it->status().ok());
  REQUIRE(m == model.end());
}

// The engine's whole contents, through a new snapshot iterator.
inline void CheckAgainstModel(Engine* e, const std::map<std::string, std::string>& model) {
  CheckIteratorAgainstModel(e->NewSnapshotIterator().get(), model);
}

// The engine-specific figure `name` of st.extra, or "" when absent.
inline std::string StatOf(const EngineStats& st, const std::string& name) {
  for (const auto& [k, v] : st.extra) {
    if (k == name) return v;
  }
  return "";
}

}  // namespace ringkv::storage::lsm::testing
