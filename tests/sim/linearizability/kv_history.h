// The client history of a key-value store, as the linearizability checker sees it.
//
// An Operation is one client request: a put, a get or a compare-and-set on one key,
// with the simulated time it was called and the time it returned. An operation that
// never returned (the client timed out, its node crashed) has `returned == false`:
// it may or may not have taken effect, at any moment after its call, and its result
// is unknown. Times are totally ordered integers chosen by the recorder; two events at
// the same time are treated as concurrent (a call at t overlaps a return at t).
//
// Plain values, no ownership beyond their strings. Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ringkv::sim::lin {

enum class OpKind : uint8_t { kPut, kGet, kCas };

struct Operation {
  // Free-form tag for reports (a client id, a request id).
  uint64_t client_id = 0;
  OpKind kind = OpKind::kGet;
  std::string key;

  // kPut: the value written. kCas: the value written if the CAS succeeds.
  std::string value;
  // kCas: the value the key must hold for the CAS to succeed; nullopt means "absent".
  std::optional<std::string> expected;

  // Invariant: call_time <= return_time when returned.
  int64_t call_time = 0;
  int64_t return_time = 0;
  bool returned = false;

  // Results, meaningful only when returned.
  // kGet: the value read; nullopt means the key was absent.
  std::optional<std::string> read_value;
  // kCas: whether the CAS reported success.
  bool cas_ok = false;
};

// Convenience builders for tests and the simulator.
inline Operation MakePut(uint64_t client, std::string key, std::string value, int64_t call,
                         int64_t ret) {
  Operation op;
  op.client_id = client;
  op.kind = OpKind::kPut;
  op.key = std::move(key);
  op.value = std::move(value);
  op.call_time = call;
  op.return_time = ret;
  op.returned = true;
  return op;
}

inline Operation MakeGet(uint64_t client, std::string key, std::optional<std::string> read,
                         int64_t call, int64_t ret) {
  Operation op;
  op.client_id = client;
  op.kind = OpKind::kGet;
  op.key = std::move(key);
  op.read_value = std::move(read);
  op.call_time = call;
  op.return_time = ret;
  op.returned = true;
  return op;
}

inline Operation MakeCas(uint64_t client, std::string key, std::optional<std::string> expected,
                         std::string value, bool ok, int64_t call, int64_t ret) {
  Operation op;
  op.client_id = client;
  op.kind = OpKind::kCas;
  op.key = std::move(key);
  op.expected = std::move(expected);
  op.value = std::move(value);
  op.cas_ok = ok;
  op.call_time = call;
  op.return_time = ret;
  op.returned = true;
  return op;
}

// Marks an operation as never returned (possibly applied, result unknown).
inline Operation Pending(Operation op) {
  op.returned = false;
  op.read_value.reset();
  op.cas_ok = false;
  return op;
}

// Human-readable one-line form, e.g. "c3 cas(k1, nil -> v7) = ok [10, 14]".
std::string Describe(const Operation& op);

}  // namespace ringkv::sim::lin
