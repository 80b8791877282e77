// CommandTable: a vector of specs plus an open-addressed index by lower-cased
// name, so the dispatcher finds a command with one hash and one compare and no
// allocation.
#include "server/commands/command.h"

#include <algorithm>

#include "storage/base/check.h"

namespace ringkv::server {

namespace {

constexpr size_t kMaxCommandName = 64;

inline uint64_t HashLower(const char* s, size_t n) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(s[i]);
    h *= 1099511628211ull;
  }
  return h;
}

// Lower-cases `name` into buf; returns false when it cannot be a command name.
inline bool LowerName(std::string_view name, char* buf) {
  if (name.empty() || name.size() > kMaxCommandName) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  }
  return true;
}

}  // namespace

void CommandTable::Register(CommandSpec spec) {
  RINGKV_CHECK(!spec.name.empty() && spec.name.size() <= kMaxCommandName);
  RINGKV_CHECK_MSG(Find(spec.name) == nullptr, "command registered twice");
  specs_.push_back(std::move(spec));
  Rebuild();
}

void CommandTable::Rebuild() {
  size_t cap = 16;
  while (cap < specs_.size() * 4) cap *= 2;
  index_.assign(cap, -1);
  for (size_t i = 0; i < specs_.size(); ++i) {
    const std::string_view n = specs_[i].name;
    size_t slot = HashLower(n.data(), n.size()) & (cap - 1);
    while (index_[slot] >= 0) slot = (slot + 1) & (cap - 1);
    index_[slot] = static_cast<int32_t>(i);
  }
}

const CommandSpec* CommandTable::Find(std::string_view name) const {
  if (index_.empty()) return nullptr;
  char buf[kMaxCommandName];
  if (!LowerName(name, buf)) return nullptr;
  const size_t mask = index_.size() - 1;
  size_t slot = HashLower(buf, name.size()) & mask;
  while (true) {
    int32_t i = index_[slot];
    if (i < 0) return nullptr;
    const CommandSpec& s = specs_[static_cast<size_t>(i)];
    if (s.name.size() == name.size() && s.name == std::string_view(buf, name.size())) return &s;
    slot = (slot + 1) & mask;
  }
}

CommandTable::KeyPositions CommandTable::KeyPositionsOf(const CommandSpec& spec, size_t argc) {
  KeyPositions k;
  if (spec.first_key <= 0) return k;
  const int args = static_cast<int>(argc);
  k.first = spec.first_key;
  k.step = spec.key_step > 0 ? spec.key_step : 1;
  k.last = std::min(spec.last_key < 0 ? args + spec.last_key : spec.last_key, args - 1);
  return k;
}

std::vector<int> CommandTable::KeyIndexes(const CommandSpec& spec, size_t argc) {
  std::vector<int> out;
  const KeyPositions k = KeyPositionsOf(spec, argc);
  for (int i = k.first; i <= k.last; i += k.step) out.push_back(i);
  return out;
}

}  // namespace ringkv::server
