// BackgroundPool: every task runs, workers really run in parallel, shutdown
// drains queued tasks, and a task scheduled after shutdown runs inline.
#include "server/background_pool.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace ringkv::server {
namespace {

// A one-shot gate that tasks wait on. The wait has a generous deadline only so
// that a broken pool fails the test instead of hanging CI.
class Gate {
 public:
  // Returns false if the gate did not open within 60 s.
  bool Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(60), [this] { return open_; });
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

TEST_CASE("background pool: runs every task", "[server][pool]") {
  std::atomic<int> sum{0};
  {
    BackgroundPool pool(3);
    CHECK(pool.threads() == 3);
    for (int i = 1; i <= 1000; i++) pool.Schedule([&sum, i] { sum += i; });
  }  // destructor drains
  CHECK(sum == 1000 * 1001 / 2);
}

TEST_CASE("background pool: N workers run N tasks at once", "[server][pool]") {
  const int n = 4;
  BackgroundPool pool(n);
  std::mutex mu;
  std::condition_variable cv;
  int started = 0;
  std::atomic<int> all_met{0};
  // Each task waits until all n have started: only possible with n parallel workers.
  for (int i = 0; i < n; i++) {
    pool.Schedule([&] {
      std::unique_lock<std::mutex> lock(mu);
      started++;
      cv.notify_all();
      if (cv.wait_for(lock, std::chrono::seconds(60), [&] { return started == n; })) all_met++;
    });
  }
  pool.Shutdown();
  CHECK(all_met == n);
  CHECK(pool.completed() == static_cast<uint64_t>(n));
}

TEST_CASE("background pool: shutdown drains queued tasks, later tasks run inline",
          "[server][pool]") {
  const int workers = 2, queued = 50;
  BackgroundPool pool(workers);
  Gate gate;
  std::atomic<int> gate_ok{0}, ran{0};
  for (int i = 0; i < workers; i++) {
    pool.Schedule([&] {
      if (gate.Wait()) gate_ok++;
    });
  }
  for (int i = 0; i < queued; i++) pool.Schedule([&] { ran++; });
  CHECK(ran == 0);  // both workers are held at the gate
  std::thread stopper([&] { pool.Shutdown(); });
  // Wait (bounded) until shutdown has begun, with the queued tasks still queued.
  for (int i = 0; i < 10'000'000 && pool.accepting(); i++) std::this_thread::yield();
  REQUIRE_FALSE(pool.accepting());
  CHECK(ran == 0);
  CHECK(pool.pending() >= static_cast<size_t>(queued));
  gate.Open();
  stopper.join();
  CHECK(gate_ok == workers);
  CHECK(ran == queued);  // drained, not dropped
  CHECK(pool.pending() == 0);
  // After shutdown: runs inline on this thread.
  std::thread::id ran_on;
  pool.Schedule([&] { ran_on = std::this_thread::get_id(); });
  CHECK(ran_on == std::this_thread::get_id());
  CHECK(pool.completed() == static_cast<uint64_t>(workers + queued + 1));
  pool.Shutdown();  // idempotent
}

}  // namespace
}  // namespace ringkv::server
