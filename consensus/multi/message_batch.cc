// See message_batch.h for the format.
#include "consensus/multi/message_batch.h"

#include "storage/base/coding.h"

namespace ringkv::consensus::multi {

namespace {
constexpr uint8_t kVersion = 1;
constexpr uint8_t kFlagResponse = 1;
constexpr uint8_t kFlagQuiesce = 2;
// Bounds that a decoder enforces so corrupt input cannot ask for huge allocations.
constexpr uint32_t kMaxItems = 1 << 20;
constexpr uint32_t kMaxMessages = 1 << 20;
}  // namespace

bool CanCoalesce(const Message& m) {
  if (m.type != MessageType::kHeartbeat && m.type != MessageType::kHeartbeatResp) return false;
  Message probe;
  probe.type = m.type;
  probe.from = m.from;
  probe.to = m.to;
  probe.term = m.term;
  probe.commit = m.commit;
  probe.context = m.context;
  probe.group_id = m.group_id;
  return probe == m;
}

HeartbeatItem ToItem(const Message& m) {
  HeartbeatItem item;
  item.group = m.group_id;
  item.response = m.type == MessageType::kHeartbeatResp;
  item.term = m.term;
  item.commit = m.commit;
  item.context = m.context;
  return item;
}

Message FromItem(const HeartbeatItem& item, NodeId from, NodeId to) {
  Message m;
  m.type = item.response ? MessageType::kHeartbeatResp : MessageType::kHeartbeat;
  m.from = from;
  m.to = to;
  m.term = item.term;
  m.commit = item.commit;
  m.context = item.context;
  m.group_id = item.group;
  return m;
}

void EncodeMessageBatch(const MessageBatch& b, std::string* dst) {
  dst->push_back(static_cast<char>(kVersion));
  PutVarint64(dst, b.from);
  PutVarint64(dst, b.to);
  PutVarint32(dst, static_cast<uint32_t>(b.heartbeats.size()));
  for (const HeartbeatItem& h : b.heartbeats) {
    PutVarint64(dst, h.group);
    dst->push_back(static_cast<char>((h.response ? kFlagResponse : 0) |
                                     (h.quiesce ? kFlagQuiesce : 0)));
    PutVarint64(dst, h.term);
    PutVarint64(dst, h.commit);
    PutLengthPrefixed(dst, h.context);
  }
  PutVarint32(dst, static_cast<uint32_t>(b.messages.size()));
  std::string scratch;
  for (const Message& m : b.messages) {
    scratch.clear();
    EncodeMessage(m, &scratch);
    PutLengthPrefixed(dst, scratch);
  }
}

Status DecodeMessageBatch(std::string_view in, MessageBatch* b) {
  *b = MessageBatch();
  if (in.empty() || static_cast<uint8_t>(in[0]) != kVersion) {
    return Status::Corruption("message batch: bad version");
  }
  in.remove_prefix(1);
  uint32_t n = 0;
  if (!GetVarint64(&in, &b->from) || !GetVarint64(&in, &b->to) || !GetVarint32(&in, &n) ||
      n > kMaxItems) {
    return Status::Corruption("message batch: bad header");
  }
  for (uint32_t i = 0; i < n; i++) {
    HeartbeatItem h;
    std::string_view ctx;
    if (!GetVarint64(&in, &h.group) || in.empty()) {
      return Status::Corruption("message batch: truncated item");
    }
    const uint8_t flags = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    if ((flags & ~(kFlagResponse | kFlagQuiesce)) != 0) {
      return Status::Corruption("message batch: unknown item flags");
    }
    h.response = flags & kFlagResponse;
    h.quiesce = flags & kFlagQuiesce;
    if (!GetVarint64(&in, &h.term) || !GetVarint64(&in, &h.commit) ||
        !GetLengthPrefixed(&in, &ctx)) {
      return Status::Corruption("message batch: truncated item");
    }
    h.context.assign(ctx);
    b->heartbeats.push_back(std::move(h));
  }
  if (!GetVarint32(&in, &n) || n > kMaxMessages) {
    return Status::Corruption("message batch: bad message count");
  }
  for (uint32_t i = 0; i < n; i++) {
    std::string_view enc;
    if (!GetLengthPrefixed(&in, &enc)) return Status::Corruption("message batch: truncated");
    Message m;
    RINGKV_RETURN_IF_ERROR(DecodeMessage(enc, &m));
    b->messages.push_back(std::move(m));
  }
  if (!in.empty()) return Status::Corruption("message batch: trailing bytes");
  return Status::OK();
}

}  // namespace ringkv::consensus::multi
