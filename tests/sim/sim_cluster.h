// The deterministic cluster simulator: one seed drives a whole cluster of simulated
// nodes, each hosting G Raft groups through the multi-raft host, over a simulated
// network (delay, loss, duplication, reordering, symmetric and one-way partitions),
// simulated time (ticks with per-node skew) and simulated disks (unsynced writes are
// lost or torn on crash), with crashes and restarts, membership changes and leadership
// transfers during the faults, and clients doing puts, gets (ReadIndex or lease reads,
// also on followers) and compare-and-sets whose history is recorded.
//
// Checked on every run: at most one leader per term, log matching, leader
// completeness, state machine safety (the same entry at the same index everywhere it
// is applied, and equal snapshots at equal indexes), linearizability of the client
// history, and liveness (once every fault heals, every group elects a leader and
// commits and applies a new entry on every member within a bounded number of ticks).
//
// Everything derives from SimOptions::seed: the same options replay the same run.
#pragma once

#include <cstdint>
#include <string>

namespace ringkv::sim {

struct SimOptions {
  uint64_t seed = 1;
  int nodes = 3;
  int groups = 1;
  bool verbose = false;
  // Ticks of client load and random faults, then every fault heals.
  int64_t fault_ticks = 300;
  // Ticks allowed after healing for every group to elect a leader and make progress.
  // Generous: without PreVote a replica with a stale log can win the timeout race
  // and disrupt elections for a while (each round is a coin flip; 250 ticks failed on
  // 1 seed in 2000).
  int64_t liveness_ticks = 500;
  int clients = 4;
  int keys_per_group = 3;
};

struct SimStats {
  uint64_t ops_returned = 0;
  uint64_t ops_pending = 0;
  uint64_t ops_rejected = 0;
  uint64_t entries_applied = 0;
  uint64_t entries_applied_early = 0;  // pipelined: before or during a sync
  uint64_t leaders_elected = 0;
  uint64_t crashes = 0;
  uint64_t partitions = 0;
  uint64_t conf_changes = 0;
  uint64_t transfers = 0;
  uint64_t snapshots_installed = 0;
  uint64_t messages_delivered = 0;
  uint64_t quiesce_events = 0;
  uint64_t lin_steps = 0;
  bool lin_unknown = false;
};

struct SimResult {
  bool ok = true;
  std::string failure;
  SimStats stats;
};

SimResult RunSimulation(const SimOptions& options);

// The command line that replays a run.
std::string ReplayCommand(const SimOptions& options);

}  // namespace ringkv::sim
