// Process-kill crash test on the real file system (PosixEnv).
// Method: fork a child that writes with use_wal + sync_wal and, after each
// Put returns, reports the key's number through a pipe. The parent SIGKILLs
// the child at a seeded pseudo-random moment, reopens the engine, and checks
// that every key the child reported (acknowledged, hence synced) is present
// with its value, and that the tree is valid. Repeated over several rounds on
// the same directory, so later rounds recover on top of earlier crashes.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/unit/storage/btree/btree_test_util.h"

namespace ringkv::storage::btree::testing {
namespace {

std::string ValueFor(uint64_t i) { return "value-" + std::to_string(i * 2654435761u); }

[[noreturn]] void ChildWrite(const EngineOptions& o, uint64_t first, int fd) {
  auto r = BtreeEngine::Open(o);
  if (!r.ok()) _exit(2);
  auto& e = r.value();
  for (uint64_t i = first;; i++) {
    // Some larger values so overflow chains and checkpoints are in flight too.
    std::string v = ValueFor(i);
    if (i % 97 == 0) v.append(5000, 'o');
    if (!e->Put(Key(i), v).ok()) _exit(3);
    if (i % 150 == 0 && !e->Checkpoint().ok()) _exit(4);
    uint64_t done = i;
    if (write(fd, &done, sizeof(done)) != sizeof(done)) _exit(5);
  }
}

TEST_CASE("SIGKILL during synced writes loses no acknowledged write", "[storage][btree]") {
  char tmpl[] = "/tmp/ringkv-btree-crash-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string dir = std::string(tmpl) + "/db";
  EngineOptions o;
  o.kind = EngineKind::kBtree;
  o.dir = dir;
  o.use_wal = true;
  o.sync_wal = true;
  o.page_bytes = 4096;
  o.block_cache_bytes = 1 << 20;  // checkpoints every few hundred writes
  std::mt19937_64 rng(1234);
  uint64_t next = 0;
  for (int round = 0; round < 5; round++) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      close(fds[0]);
      ChildWrite(o, next, fds[1]);
    }
    close(fds[1]);
    // Let the child acknowledge a random number of writes, then kill it
    // without warning, usually in the middle of the next one.
    uint64_t target = 100 + rng() % 500, acked = 0, last = 0;
    bool have_last = false;
    while (acked < target) {
      uint64_t v;
      ssize_t n = read(fds[0], &v, sizeof(v));
      if (n != sizeof(v)) break;
      last = v;
      have_last = true;
      acked++;
    }
    kill(pid, SIGKILL);
    // Drain what the child acknowledged before the signal landed.
    uint64_t v;
    while (read(fds[0], &v, sizeof(v)) == sizeof(v)) {
      last = v;
      have_last = true;
    }
    close(fds[0]);
    int wstatus = 0;
    REQUIRE(waitpid(pid, &wstatus, 0) == pid);
    INFO("round " << round << " child status " << wstatus);
    REQUIRE(WIFSIGNALED(wstatus));
    REQUIRE(have_last);
    auto e = OpenOrDie(o);
    REQUIRE(e->Validate().ok());
    for (uint64_t i = 0; i <= last; i++) {
      std::string got;
      Status s = e->Get(Key(i), &got);
      INFO("key " << i << " " << s.ToString());
      REQUIRE(s.ok());
      std::string want = ValueFor(i);
      if (i % 97 == 0) want.append(5000, 'o');
      REQUIRE(got == want);
    }
    next = last + 1;  // a write in flight at the kill may or may not be there
  }
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);
}

}  // namespace
}  // namespace ringkv::storage::btree::testing
