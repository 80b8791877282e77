#include "server/background_pool.h"

#include "server/thread_name.h"
#include "storage/base/check.h"

namespace ringkv::server {

BackgroundPool::BackgroundPool(size_t threads) : thread_count_(threads) {
  RINGKV_CHECK(threads >= 1);
  workers_.reserve(threads);
  for (size_t i = 0; i < threads; i++) workers_.emplace_back([this] {
      NameThisThread("rk-background");
      WorkerLoop();
    });
}

BackgroundPool::~BackgroundPool() { Shutdown(); }

void BackgroundPool::Schedule(std::function<void()> task) {
  RINGKV_CHECK(task != nullptr);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      queue_.push_back(std::move(task));
      work_cv_.notify_one();
      return;
    }
  }
  // After shutdown began: run inline so that no task is ever lost.
  task();
  std::lock_guard<std::mutex> lock(mu_);
  completed_++;
}

void BackgroundPool::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  std::lock_guard<std::mutex> join_lock(join_mu_);
  for (std::thread& t : workers_) {
    if (t.joinable()) t.join();
  }
}

bool BackgroundPool::accepting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !stopping_;
}

size_t BackgroundPool::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

uint64_t BackgroundPool::completed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return completed_;
}

void BackgroundPool::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    // Drain: a worker leaves only when stopping and nothing is left to run.
    if (queue_.empty()) return;
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    task();
    task = nullptr;  // destroy captures outside the lock
    lock.lock();
    completed_++;
  }
}

}  // namespace ringkv::server
