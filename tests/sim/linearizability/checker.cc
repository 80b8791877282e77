// Implementation notes: see checker.h for the algorithm. Here, the per-key search.
#include "tests/sim/linearizability/checker.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <unordered_map>
#include <utility>

#include "storage/base/check.h"

namespace ringkv::sim::lin {

namespace {

constexpr int64_t kNeverReturned = std::numeric_limits<int64_t>::max();
// Model state: the interned id of the key's value, or kAbsent.
constexpr int32_t kAbsent = -1;

std::string ShowValue(const std::optional<std::string>& v) { return v ? *v : "nil"; }

// One operation of a key's sub-history, with values interned to small integers so that
// the model state is one int32 and the memo key is cheap to hash.
struct ModelOp {
  OpKind kind;
  bool returned;
  bool cas_ok;
  int32_t value;     // put / cas new value
  int32_t expected;  // cas expected (kAbsent for nil)
  int32_t read;      // get result (kAbsent for nil)
};

// Applies `op` to `state`. Returns false when the recorded result is impossible from
// `state`; otherwise sets *next.
bool Step(const ModelOp& op, int32_t state, int32_t* next) {
  switch (op.kind) {
    case OpKind::kPut:
      *next = op.value;
      return true;
    case OpKind::kGet:
      *next = state;
      return !op.returned || state == op.read;
    case OpKind::kCas: {
      const bool matches = state == op.expected;
      if (!op.returned) {
        *next = matches ? op.value : state;
        return true;
      }
      if (op.cas_ok != matches) return false;
      *next = matches ? op.value : state;
      return true;
    }
  }
  return false;
}

// An event in the doubly linked list: the call or the return of operation `op`.
struct Event {
  bool is_call;
  int op;
  int64_t time;
  int match;  // index of the paired event
  int prev;
  int next;
};

// A memoized search state: which operations are linearized plus the model state.
struct MemoKey {
  std::vector<uint64_t> bits;
  int32_t state;
  bool operator==(const MemoKey& o) const { return state == o.state && bits == o.bits; }
};

class Bitset {
 public:
  explicit Bitset(size_t n) : words_((n + 63) / 64, 0) {}
  void Set(int i) { words_[i / 64] |= uint64_t{1} << (i % 64); }
  void Clear(int i) { words_[i / 64] &= ~(uint64_t{1} << (i % 64)); }
  const std::vector<uint64_t>& words() const { return words_; }

 private:
  std::vector<uint64_t> words_;
};

uint64_t Mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

// The search over one key's operations.
class KeySearch {
 public:
  KeySearch(const std::vector<const Operation*>& ops, const CheckOptions& options)
      : src_(ops), options_(options), linearized_(ops.size()) {
    Intern();
    BuildEvents();
    for (size_t i = 0; i < ops.size(); i++) zobrist_.push_back(Mix64(i * 0x9e3779b97f4a7c15ULL + 1));
  }

  Verdict Run(uint64_t* steps);
  std::string Explain() const;

 private:
  int32_t Id(const std::optional<std::string>& v) {
    if (!v) return kAbsent;
    auto [it, inserted] = ids_.emplace(*v, static_cast<int32_t>(ids_.size()));
    return it->second;
  }
  void Intern();
  void BuildEvents();
  void Lift(int call);
  void Unlift(int call);
  bool Remember(uint64_t hash, int32_t state);

  const std::vector<const Operation*>& src_;
  const CheckOptions& options_;
  std::unordered_map<std::string, int32_t> ids_;
  std::vector<ModelOp> ops_;
  std::vector<Event> events_;  // events_[0] is the list head sentinel
  std::vector<uint64_t> zobrist_;
  Bitset linearized_;
  std::unordered_multimap<uint64_t, MemoKey> memo_;
  // The deepest partial linearization found, for the failure report.
  std::vector<int> best_order_;
};

void KeySearch::Intern() {
  ops_.reserve(src_.size());
  for (const Operation* op : src_) {
    ModelOp m{};
    m.kind = op->kind;
    m.returned = op->returned;
    m.cas_ok = op->cas_ok;
    m.value = Id(op->value);
    m.expected = op->kind == OpKind::kCas ? Id(op->expected) : kAbsent;
    m.read = op->kind == OpKind::kGet && op->returned ? Id(op->read_value) : kAbsent;
    ops_.push_back(m);
  }
}

void KeySearch::BuildEvents() {
  struct Raw {
    int64_t time;
    bool is_call;
    int op;
  };
  std::vector<Raw> raw;
  raw.reserve(src_.size() * 2);
  for (size_t i = 0; i < src_.size(); i++) {
    const Operation* op = src_[i];
    const int64_t ret = op->returned ? op->return_time : kNeverReturned;
    RINGKV_CHECK(ret >= op->call_time);
    raw.push_back({op->call_time, true, static_cast<int>(i)});
    raw.push_back({ret, false, static_cast<int>(i)});
  }
  // Time order; at equal times calls come first, so touching intervals are concurrent.
  std::sort(raw.begin(), raw.end(), [](const Raw& a, const Raw& b) {
    if (a.time != b.time) return a.time < b.time;
    if (a.is_call != b.is_call) return a.is_call;
    return a.op < b.op;
  });
  events_.push_back({false, -1, 0, -1, -1, -1});  // head
  std::vector<int> call_of(src_.size(), -1);
  for (const Raw& r : raw) {
    const int idx = static_cast<int>(events_.size());
    events_.push_back({r.is_call, r.op, r.time, -1, idx - 1, -1});
    events_[idx - 1].next = idx;
    if (r.is_call) {
      call_of[r.op] = idx;
    } else {
      events_[idx].match = call_of[r.op];
      events_[call_of[r.op]].match = idx;
    }
  }
}

void KeySearch::Lift(int call) {
  Event& e = events_[call];
  events_[e.prev].next = e.next;
  if (e.next >= 0) events_[e.next].prev = e.prev;
  Event& m = events_[e.match];
  events_[m.prev].next = m.next;
  if (m.next >= 0) events_[m.next].prev = m.prev;
}

void KeySearch::Unlift(int call) {
  Event& e = events_[call];
  Event& m = events_[e.match];
  events_[m.prev].next = e.match;
  if (m.next >= 0) events_[m.next].prev = e.match;
  events_[e.prev].next = call;
  if (e.next >= 0) events_[e.next].prev = call;
}

// Returns true if (linearized_, state) was not seen before, and records it.
bool KeySearch::Remember(uint64_t hash, int32_t state) {
  const uint64_t key = hash ^ Mix64(static_cast<uint64_t>(static_cast<uint32_t>(state)) + 7);
  auto range = memo_.equal_range(key);
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second.state == state && it->second.bits == linearized_.words()) return false;
  }
  memo_.emplace(key, MemoKey{linearized_.words(), state});
  return true;
}

Verdict KeySearch::Run(uint64_t* steps) {
  struct Frame {
    int call;
    int32_t state_before;
  };
  std::vector<Frame> calls;
  int32_t state = kAbsent;
  uint64_t hash = 0;
  int entry = events_[0].next;
  while (events_[0].next >= 0) {
    if (++*steps > options_.max_steps_per_key) return Verdict::kUnknown;
    RINGKV_CHECK(entry >= 0);
    const Event& ev = events_[entry];
    if (ev.is_call) {
      int32_t next_state = state;
      if (Step(ops_[ev.op], state, &next_state)) {
        linearized_.Set(ev.op);
        const uint64_t next_hash = hash ^ zobrist_[ev.op];
        if (Remember(next_hash, next_state)) {
          calls.push_back({entry, state});
          state = next_state;
          hash = next_hash;
          Lift(entry);
          if (calls.size() > best_order_.size()) {
            best_order_.clear();
            for (const Frame& f : calls) best_order_.push_back(events_[f.call].op);
          }
          entry = events_[0].next;
          continue;
        }
        linearized_.Clear(ev.op);
      }
      entry = ev.next;
      continue;
    }
    // A return of an operation not yet linearized: everything before it was tried.
    if (calls.empty()) return Verdict::kNotLinearizable;
    const Frame top = calls.back();
    calls.pop_back();
    const int op = events_[top.call].op;
    state = top.state_before;
    hash ^= zobrist_[op];
    linearized_.Clear(op);
    Unlift(top.call);
    entry = events_[top.call].next;
  }
  return Verdict::kLinearizable;
}

std::string KeySearch::Explain() const {
  std::string out;
  char buf[160];
  std::snprintf(buf, sizeof(buf), "%zu ops; longest linearizable prefix has %zu:\n",
                src_.size(), best_order_.size());
  out += buf;
  const size_t limit = options_.max_ops_in_report;
  const size_t from = best_order_.size() > limit ? best_order_.size() - limit : 0;
  for (size_t i = from; i < best_order_.size(); i++) {
    out += "    " + std::to_string(i) + ". " + Describe(*src_[best_order_[i]]) + "\n";
  }
  // The operations left over, in call order: one of them has no legal place.
  std::vector<bool> in_prefix(src_.size(), false);
  for (int op : best_order_) in_prefix[op] = true;
  std::vector<int> rest;
  for (size_t i = 0; i < src_.size(); i++) {
    if (!in_prefix[i]) rest.push_back(static_cast<int>(i));
  }
  std::sort(rest.begin(), rest.end(),
            [&](int a, int b) { return src_[a]->call_time < src_[b]->call_time; });
  out += "  then none of these can come next:\n";
  for (size_t i = 0; i < rest.size() && i < limit; i++) {
    out += "    " + Describe(*src_[rest[i]]) + "\n";
  }
  return out;
}

}  // namespace

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kLinearizable:
      return "linearizable";
    case Verdict::kNotLinearizable:
      return "NOT linearizable";
    case Verdict::kUnknown:
      return "unknown (search bound reached)";
  }
  return "?";
}

std::string Describe(const Operation& op) {
  std::string s = "c" + std::to_string(op.client_id) + " ";
  switch (op.kind) {
    case OpKind::kPut:
      s += "put(" + op.key + ", " + op.value + ")";
      break;
    case OpKind::kGet:
      s += "get(" + op.key + ")";
      if (op.returned) s += " = " + ShowValue(op.read_value);
      break;
    case OpKind::kCas:
      s += "cas(" + op.key + ", " + ShowValue(op.expected) + " -> " + op.value + ")";
      if (op.returned) s += op.cas_ok ? " = ok" : " = fail";
      break;
  }
  s += " [" + std::to_string(op.call_time) + ", " +
       (op.returned ? std::to_string(op.return_time) : std::string("never")) + "]";
  return s;
}

CheckReport CheckSingleKey(const std::vector<Operation>& ops, const CheckOptions& options) {
  std::vector<const Operation*> ptrs;
  for (const Operation& op : ops) {
    // A get that never returned has no effect and no result: nothing to check.
    if (op.kind == OpKind::kGet && !op.returned) continue;
    ptrs.push_back(&op);
  }
  CheckReport report;
  report.keys_checked = 1;
  if (!ops.empty()) report.key = ops.front().key;
  KeySearch search(ptrs, options);
  report.verdict = search.Run(&report.steps);
  if (report.verdict == Verdict::kNotLinearizable) report.detail = search.Explain();
  if (report.verdict == Verdict::kUnknown) {
    report.detail = std::to_string(ptrs.size()) + " ops; search stopped after " +
                    std::to_string(report.steps) + " steps";
  }
  return report;
}

CheckReport CheckKvHistory(const std::vector<Operation>& history, const CheckOptions& options) {
  std::map<std::string, std::vector<Operation>> by_key;
  for (const Operation& op : history) by_key[op.key].push_back(op);
  CheckReport total;
  CheckReport first_unknown;
  bool have_unknown = false;
  for (const auto& [key, ops] : by_key) {
    CheckReport r = CheckSingleKey(ops, options);
    total.steps += r.steps;
    total.keys_checked++;
    if (r.verdict == Verdict::kNotLinearizable) {
      total.verdict = r.verdict;
      total.key = key;
      total.detail = std::move(r.detail);
      return total;
    }
    if (r.verdict == Verdict::kUnknown && !have_unknown) {
      have_unknown = true;
      first_unknown = std::move(r);
    }
  }
  if (have_unknown) {
    total.verdict = Verdict::kUnknown;
    total.key = first_unknown.key;
    total.detail = std::move(first_unknown.detail);
  }
  return total;
}

}  // namespace ringkv::sim::lin
