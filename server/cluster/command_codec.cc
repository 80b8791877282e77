#include "server/cluster/command_codec.h"

#include "storage/base/coding.h"

namespace ringkv::server::cluster {

namespace {

constexpr uint8_t kVersion1 = 1;  // without the write id
constexpr uint8_t kVersion = 2;
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

void PutWriteId(WriteId id, std::string* out) {
  PutFixed64(out, id.origin);
  PutFixed64(out, id.seq);
}

WriteId GetWriteId(const char* p) { return WriteId{DecodeFixed64(p), DecodeFixed64(p + 8)}; }

}  // namespace

void EncodeReplicatedCommand(std::span<const std::string_view> args, int resp, int64_t now_ms,
                             std::string* out, WriteId id) {
  out->push_back(static_cast<char>(kVersion));
  out->push_back(static_cast<char>(resp));
  PutFixed64(out, static_cast<uint64_t>(now_ms));
  PutWriteId(id, out);
  PutArgs(args, out);
}

Status DecodeReplicatedCommand(std::string_view data, ReplicatedCommand* out) {
  const uint8_t version = data.empty() ? 0 : static_cast<uint8_t>(data[0]);
  const size_t header = version == kVersion ? 26 : 10;
  if ((version != kVersion && version != kVersion1) || data.size() < header) {
    return Status::Corruption("bad replicated command header");
  }
  out->resp = static_cast<uint8_t>(data[1]) == 3 ? 3 : 2;
  out->now_ms = static_cast<int64_t>(DecodeFixed64(data.data() + 2));
  out->id = version == kVersion ? GetWriteId(data.data() + 10) : WriteId{};
  data.remove_prefix(header);
  return GetArgs(&data, &out->args);
}

void EncodeForwardRequest(int resp, uint8_t flags, uint8_t hops,
                          std::span<const std::string_view> args, std::string* out, WriteId id) {
  out->push_back(static_cast<char>(kVersion));
  out->push_back(static_cast<char>(resp));
  out->push_back(static_cast<char>(flags));
  out->push_back(static_cast<char>(hops));
  PutWriteId(id, out);
  PutArgs(args, out);
}

Status DecodeForwardRequest(std::string_view data, ForwardRequest* out) {
  const uint8_t version = data.empty() ? 0 : static_cast<uint8_t>(data[0]);
  const size_t header = version == kVersion ? 20 : 4;
  if ((version != kVersion && version != kVersion1) || data.size() < header) {
    return Status::Corruption("bad forward request header");
  }
  out->resp = static_cast<uint8_t>(data[1]) == 3 ? 3 : 2;
  out->flags = static_cast<uint8_t>(data[2]);
  out->hops = static_cast<uint8_t>(data[3]);
  out->id = version == kVersion ? GetWriteId(data.data() + 4) : WriteId{};
  data.remove_prefix(header);
  return GetArgs(&data, &out->args);
}

}  // namespace ringkv::server::cluster
