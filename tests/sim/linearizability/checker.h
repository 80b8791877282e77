// A linearizability checker for key-value histories (put, get, compare-and-set).
//
// Algorithm: Wing & Gong's search with Lowe's just-in-time linearization and the
// memoization of (set of linearized operations, model state) that makes it practical,
// as in Porcupine (anishathalye/porcupine) and Knossos. The history is first split
// per key: a KV store is linearizable iff each key's sub-history is (linearizability
// is local, Herlihy & Wing 1990 §3.2), and the per-key searches are exponentially
// smaller than one big search.
//
// Each per-key search walks a doubly linked list of call and return events in time
// order. At a call it tries to linearize that operation now (apply it to the model;
// the result must match); when it meets a return whose operation is not yet linearized
// it backtracks. A (linearized set, state) pair already explored is never explored
// again. Operations that never returned have an infinitely late return, any result
// is accepted for them, and linearizing one at the very end is the same as it never
// taking effect, so "possibly applied" needs no special case in the search.
//
// The search is bounded: after `max_steps_per_key` steps on one key the verdict for
// the history is kUnknown instead of a hang. Thread-compatible; no global state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/sim/linearizability/kv_history.h"

namespace ringkv::sim::lin {

enum class Verdict : uint8_t { kLinearizable, kNotLinearizable, kUnknown };

const char* VerdictName(Verdict v);

struct CheckOptions {
  // Search steps (list moves) allowed per key before giving up with kUnknown.
  uint64_t max_steps_per_key = 2'000'000;
  // Operations listed in a failure report.
  size_t max_ops_in_report = 30;
};

struct CheckReport {
  Verdict verdict = Verdict::kLinearizable;
  // The first key found not linearizable (or whose search ran out of steps).
  std::string key;
  // Why: the key's operations and the longest linearizable prefix found.
  std::string detail;
  // Total search steps over all keys, and the number of keys checked.
  uint64_t steps = 0;
  size_t keys_checked = 0;
};

// Checks a whole history. Keys are checked in sorted order; the first key that is not
// linearizable ends the check (kNotLinearizable wins over kUnknown on another key).
CheckReport CheckKvHistory(const std::vector<Operation>& history, const CheckOptions& options);

// Checks operations that all touch one key (the key fields are ignored).
CheckReport CheckSingleKey(const std::vector<Operation>& ops, const CheckOptions& options);

}  // namespace ringkv::sim::lin
