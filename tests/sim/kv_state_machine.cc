// See kv_state_machine.h for the command and snapshot encodings.
#include "tests/sim/kv_state_machine.h"

#include "storage/base/coding.h"

namespace ringkv::sim {

namespace {
constexpr uint8_t kVersion = 1;
}  // namespace

std::string EncodeKvCommand(const KvCommand& c) {
  std::string out;
  out.push_back(static_cast<char>(kVersion));
  out.push_back(static_cast<char>(c.kind));
  PutVarint64(&out, c.client_id);
  PutVarint64(&out, c.request);
  PutLengthPrefixed(&out, c.key);
  PutLengthPrefixed(&out, c.value);
  if (c.kind == KvCommand::Kind::kCas) {
    out.push_back(c.expected ? 1 : 0);
    if (c.expected) PutLengthPrefixed(&out, *c.expected);
  }
  return out;
}

Status DecodeKvCommand(std::string_view in, KvCommand* c) {
  if (in.size() < 2 || static_cast<uint8_t>(in[0]) != kVersion) {
    return Status::Corruption("kv command: bad version");
  }
  const uint8_t kind = static_cast<uint8_t>(in[1]);
  if (kind != 1 && kind != 2) return Status::Corruption("kv command: bad kind");
  c->kind = static_cast<KvCommand::Kind>(kind);
  in.remove_prefix(2);
  std::string_view key, value;
  if (!GetVarint64(&in, &c->client_id) || !GetVarint64(&in, &c->request) ||
      !GetLengthPrefixed(&in, &key) || !GetLengthPrefixed(&in, &value)) {
    return Status::Corruption("kv command: truncated");
  }
  c->key.assign(key);
  c->value.assign(value);
  c->expected.reset();
  if (c->kind == KvCommand::Kind::kCas) {
    if (in.empty()) return Status::Corruption("kv command: truncated cas");
    const bool has = in[0] != 0;
    in.remove_prefix(1);
    if (has) {
      std::string_view e;
      if (!GetLengthPrefixed(&in, &e)) return Status::Corruption("kv command: truncated cas");
      c->expected = std::string(e);
    }
  }
  if (!in.empty()) return Status::Corruption("kv command: trailing bytes");
  return Status::OK();
}

KvStateMachine::ApplyResult KvStateMachine::Apply(const KvCommand& c) {
  ApplyResult r;
  uint64_t& last = last_request_[c.client_id];
  if (c.request <= last) {
    r.duplicate = true;
    return r;
  }
  last = c.request;
  if (c.kind == KvCommand::Kind::kPut) {
    data_[c.key] = c.value;
    return r;
  }
  auto it = data_.find(c.key);
  const bool matches = c.expected ? (it != data_.end() && it->second == *c.expected)
                                  : (it == data_.end());
  if (matches) data_[c.key] = c.value;
  r.cas_ok = matches;
  return r;
}

std::optional<std::string> KvStateMachine::Get(const std::string& key) const {
  auto it = data_.find(key);
  if (it == data_.end()) return std::nullopt;
  return it->second;
}

std::string KvStateMachine::EncodeSnapshot() const {
  std::string out;
  out.push_back(static_cast<char>(kVersion));
  PutVarint64(&out, data_.size());
  for (const auto& [k, v] : data_) {
    PutLengthPrefixed(&out, k);
    PutLengthPrefixed(&out, v);
  }
  PutVarint64(&out, last_request_.size());
  for (const auto& [client, req] : last_request_) {
    PutVarint64(&out, client);
    PutVarint64(&out, req);
  }
  return out;
}

Status KvStateMachine::RestoreSnapshot(std::string_view in) {
  data_.clear();
  last_request_.clear();
  if (in.empty()) return Status::OK();
  if (static_cast<uint8_t>(in[0]) != kVersion) return Status::Corruption("kv snapshot: version");
  in.remove_prefix(1);
  uint64_t n = 0;
  if (!GetVarint64(&in, &n)) return Status::Corruption("kv snapshot: truncated");
  for (uint64_t i = 0; i < n; i++) {
    std::string_view k, v;
    if (!GetLengthPrefixed(&in, &k) || !GetLengthPrefixed(&in, &v)) {
      return Status::Corruption("kv snapshot: truncated entry");
    }
    data_.emplace(std::string(k), std::string(v));
  }
  if (!GetVarint64(&in, &n)) return Status::Corruption("kv snapshot: truncated");
  for (uint64_t i = 0; i < n; i++) {
    uint64_t client = 0, req = 0;
    if (!GetVarint64(&in, &client) || !GetVarint64(&in, &req)) {
      return Status::Corruption("kv snapshot: truncated client");
    }
    last_request_[client] = req;
  }
  if (!in.empty()) return Status::Corruption("kv snapshot: trailing bytes");
  return Status::OK();
}

}  // namespace ringkv::sim
