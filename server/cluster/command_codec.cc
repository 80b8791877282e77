#include "server/cluster/command_codec.h"

#include "storage/base/coding.h"

namespace ringkv::server::cluster {

namespace {

constexpr uint8_t kVersion = 1;
// A bound on argc that no valid command reaches (the RESP parser caps
// multibulk length far lower); rejects absurd counts before reserving.
constexpr uint32_t kMaxArgs = 1u << 24;

void PutArgs(std::span<const std::string_view> args, std::string* out) {
  PutVarint32(out, static_cast<uint32_t>(args.size()));
  for (std::string_view a : args) PutLengthPrefixed(out, a);
}

Status GetArgs(std::string_view* in, std::vector<std::string_view>* args) {
  uint32_t argc = 0;
  if (!GetVarint32(in, &argc) || argc == 0 || argc > kMaxArgs || argc > in->size()) {
    return Status::Corruption("bad argument count");
  }
  args->clear();
  args->reserve(argc);
  for (uint32_t i = 0; i < argc; ++i) {
    std::string_view a;
    if (!GetLengthPrefixed(in, &a)) return Status::Corruption("truncated argument");
    args->push_back(a);
  }
  if (!in->empty()) return Status::Corruption("trailing bytes");
  return Status::OK();
}

}  // namespace

void EncodeReplicatedCommand(std::span<const std::string_view> args, int resp, int64_t now_ms,
                             std::string* out) {
  out->push_back(static_cast<char>(kVersion));
  out->push_back(static_cast<char>(resp));
  PutFixed64(out, static_cast<uint64_t>(now_ms));
  PutArgs(args, out);
}

Status DecodeReplicatedCommand(std::string_view data, ReplicatedCommand* out) {
  if (data.size() < 10 || static_cast<uint8_t>(data[0]) != kVersion) {
    return Status::Corruption("bad replicated command header");
  }
  out->resp = static_cast<uint8_t>(data[1]) == 3 ? 3 : 2;
  out->now_ms = static_cast<int64_t>(DecodeFixed64(data.data() + 2));
  data.remove_prefix(10);
  return GetArgs(&data, &out->args);
}

void EncodeForwardRequest(int resp, uint8_t flags, uint8_t hops,
                          std::span<const std::string_view> args, std::string* out) {
  out->push_back(static_cast<char>(kVersion));
  out->push_back(static_cast<char>(resp));
  out->push_back(static_cast<char>(flags));
  out->push_back(static_cast<char>(hops));
  PutArgs(args, out);
}

Status DecodeForwardRequest(std::string_view data, ForwardRequest* out) {
  if (data.size() < 4 || static_cast<uint8_t>(data[0]) != kVersion) {
    return Status::Corruption("bad forward request header");
  }
  out->resp = static_cast<uint8_t>(data[1]) == 3 ? 3 : 2;
  out->flags = static_cast<uint8_t>(data[2]);
  out->hops = static_cast<uint8_t>(data[3]);
  data.remove_prefix(4);
  return GetArgs(&data, &out->args);
}

}  // namespace ringkv::server::cluster
