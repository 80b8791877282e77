// Encoding of the consensus value types.
//
// Wire/disk format, version 1. All integers are varints (storage/base/coding.h)
// unless stated; "lp" is a varint32 length followed by that many bytes.
//
//   Entry:      u8 version(=1) | varint64 term | varint64 index | u8 type | lp data
//   HardState:  u8 version(=1) | varint64 term | varint64 vote | varint64 commit
//   ConfState:  u8 version(=1) | list voters | list learners | list voters_outgoing
//               | list learners_next | u8 auto_leave(0/1)
//               where list = varint32 count | count x varint64 id
//   ConfChange: u8 version(=1) | u8 transition | varint32 count
//               | count x (u8 type | varint64 node_id) | lp context
//   Message:    u8 version(=1) | u8 type | varint64 from | varint64 to | varint64 term
//               | varint64 log_term | varint64 index | varint64 commit
//               | varint64 reject_hint | varint64 group_id
//               | u8 flags (bit0 reject, bit1 snapshot_done)
//               | varint32 n_entries | n_entries x lp(Entry)
//               | lp context
//               | varint64 snap.index | varint64 snap.term | lp(ConfState)
//               | varint64 snapshot_offset | lp snapshot data
//
// Decoders check every length against the remaining input, reject unknown
// versions, unknown enum values and trailing bytes.
#include "consensus/messages.h"

#include <algorithm>
#include <cstdio>

#include "storage/base/coding.h"

namespace ringkv::consensus {
namespace {

constexpr uint8_t kVersion = 1;

Status Bad(const char* what) { return Status::Corruption(what); }

bool GetU8(std::string_view* in, uint8_t* v) {
  if (in->empty()) return false;
  *v = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  return true;
}

Status CheckVersion(std::string_view* in) {
  uint8_t v;
  if (!GetU8(in, &v)) return Bad("truncated version");
  if (v != kVersion) return Bad("unknown version");
  return Status::OK();
}

void PutIds(std::string* dst, const std::vector<NodeId>& ids) {
  PutVarint32(dst, static_cast<uint32_t>(ids.size()));
  for (NodeId id : ids) PutVarint64(dst, id);
}

bool GetIds(std::string_view* in, std::vector<NodeId>* ids) {
  uint32_t n;
  if (!GetVarint32(in, &n) || n > in->size()) return false;  // each id takes >= 1 byte
  ids->clear();
  ids->reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    uint64_t id;
    if (!GetVarint64(in, &id)) return false;
    ids->push_back(id);
  }
  return true;
}

std::string JoinIds(const std::vector<NodeId>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(ids[i]);
  }
  return s;
}

}  // namespace

bool ConfState::Equivalent(const ConfState& o) const {
  auto sorted = [](std::vector<NodeId> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  return sorted(voters) == sorted(o.voters) && sorted(learners) == sorted(o.learners) &&
         sorted(voters_outgoing) == sorted(o.voters_outgoing) &&
         sorted(learners_next) == sorted(o.learners_next) && auto_leave == o.auto_leave;
}

bool ConfChange::EnterJoint(bool* auto_leave) const {
  // Like etcd's ConfChangeV2: with more than one change, or a non-auto
  // transition, a joint configuration is needed.
  if (transition != ConfChangeTransition::kAuto || changes.size() > 1) {
    *auto_leave = transition != ConfChangeTransition::kJointExplicit;
    return true;
  }
  *auto_leave = false;
  return false;
}

const char* MessageTypeName(MessageType t) {
  static const char* const kNames[kNumMessageTypes] = {
      "Hup",       "Beat",    "CheckQuorum", "Unreachable", "Prop",       "ReadIndex",
      "ReadIndexResp", "TransferLeader", "App", "AppResp", "Vote", "VoteResp",
      "PreVote",   "PreVoteResp", "Snap",   "SnapResp",    "Heartbeat",  "HeartbeatResp",
      "TimeoutNow"};
  auto i = static_cast<size_t>(t);
  return i < kNumMessageTypes ? kNames[i] : "Unknown";
}

bool IsLocalMessage(MessageType t) {
  return t == MessageType::kHup || t == MessageType::kBeat || t == MessageType::kCheckQuorum ||
         t == MessageType::kUnreachable;
}

bool IsResponseMessage(MessageType t) {
  return t == MessageType::kAppResp || t == MessageType::kVoteResp ||
         t == MessageType::kPreVoteResp || t == MessageType::kHeartbeatResp ||
         t == MessageType::kSnapResp || t == MessageType::kReadIndexResp ||
         t == MessageType::kUnreachable;
}

uint64_t EntrySize(const Entry& e) { return e.data.size() + 24; }

void EncodeEntry(const Entry& e, std::string* dst) {
  dst->push_back(static_cast<char>(kVersion));
  PutVarint64(dst, e.term);
  PutVarint64(dst, e.index);
  dst->push_back(static_cast<char>(e.type));
  PutLengthPrefixed(dst, e.data);
}

Status DecodeEntry(std::string_view in, Entry* e) {
  RINGKV_RETURN_IF_ERROR(CheckVersion(&in));
  uint8_t type;
  std::string_view data;
  if (!GetVarint64(&in, &e->term) || !GetVarint64(&in, &e->index) || !GetU8(&in, &type) ||
      !GetLengthPrefixed(&in, &data)) {
    return Bad("truncated entry");
  }
  if (type > static_cast<uint8_t>(EntryType::kConfChange)) return Bad("bad entry type");
  if (!in.empty()) return Bad("trailing bytes after entry");
  e->type = static_cast<EntryType>(type);
  e->data.assign(data);
  return Status::OK();
}

void EncodeHardState(const HardState& hs, std::string* dst) {
  dst->push_back(static_cast<char>(kVersion));
  PutVarint64(dst, hs.term);
  PutVarint64(dst, hs.vote);
  PutVarint64(dst, hs.commit);
}

Status DecodeHardState(std::string_view in, HardState* hs) {
  RINGKV_RETURN_IF_ERROR(CheckVersion(&in));
  if (!GetVarint64(&in, &hs->term) || !GetVarint64(&in, &hs->vote) ||
      !GetVarint64(&in, &hs->commit)) {
    return Bad("truncated hard state");
  }
  if (!in.empty()) return Bad("trailing bytes after hard state");
  return Status::OK();
}

void EncodeConfState(const ConfState& cs, std::string* dst) {
  dst->push_back(static_cast<char>(kVersion));
  PutIds(dst, cs.voters);
  PutIds(dst, cs.learners);
  PutIds(dst, cs.voters_outgoing);
  PutIds(dst, cs.learners_next);
  dst->push_back(cs.auto_leave ? 1 : 0);
}

Status DecodeConfState(std::string_view in, ConfState* cs) {
  RINGKV_RETURN_IF_ERROR(CheckVersion(&in));
  uint8_t al;
  if (!GetIds(&in, &cs->voters) || !GetIds(&in, &cs->learners) ||
      !GetIds(&in, &cs->voters_outgoing) || !GetIds(&in, &cs->learners_next) ||
      !GetU8(&in, &al)) {
    return Bad("truncated conf state");
  }
  if (al > 1) return Bad("bad auto_leave");
  if (!in.empty()) return Bad("trailing bytes after conf state");
  cs->auto_leave = al == 1;
  return Status::OK();
}

void EncodeConfChange(const ConfChange& cc, std::string* dst) {
  dst->push_back(static_cast<char>(kVersion));
  dst->push_back(static_cast<char>(cc.transition));
  PutVarint32(dst, static_cast<uint32_t>(cc.changes.size()));
  for (const auto& c : cc.changes) {
    dst->push_back(static_cast<char>(c.type));
    PutVarint64(dst, c.node_id);
  }
  PutLengthPrefixed(dst, cc.context);
}

Status DecodeConfChange(std::string_view in, ConfChange* cc) {
  RINGKV_RETURN_IF_ERROR(CheckVersion(&in));
  uint8_t tr;
  uint32_t n;
  if (!GetU8(&in, &tr) || !GetVarint32(&in, &n)) return Bad("truncated conf change");
  if (tr > static_cast<uint8_t>(ConfChangeTransition::kJointExplicit)) {
    return Bad("bad transition");
  }
  if (n > in.size() / 2) return Bad("conf change count exceeds input");
  cc->transition = static_cast<ConfChangeTransition>(tr);
  cc->changes.clear();
  for (uint32_t i = 0; i < n; ++i) {
    uint8_t type;
    ConfChangeSingle s;
    if (!GetU8(&in, &type) || !GetVarint64(&in, &s.node_id)) return Bad("truncated change");
    if (type > static_cast<uint8_t>(ConfChangeType::kAddLearner)) return Bad("bad change type");
    s.type = static_cast<ConfChangeType>(type);
    cc->changes.push_back(s);
  }
  std::string_view ctx;
  if (!GetLengthPrefixed(&in, &ctx)) return Bad("truncated conf change context");
  if (!in.empty()) return Bad("trailing bytes after conf change");
  cc->context.assign(ctx);
  return Status::OK();
}

void EncodeMessage(const Message& m, std::string* dst) {
  dst->push_back(static_cast<char>(kVersion));
  dst->push_back(static_cast<char>(m.type));
  PutVarint64(dst, m.from);
  PutVarint64(dst, m.to);
  PutVarint64(dst, m.term);
  PutVarint64(dst, m.log_term);
  PutVarint64(dst, m.index);
  PutVarint64(dst, m.commit);
  PutVarint64(dst, m.reject_hint);
  PutVarint64(dst, m.group_id);
  dst->push_back(static_cast<char>((m.reject ? 1 : 0) | (m.snapshot_done ? 2 : 0)));
  PutVarint32(dst, static_cast<uint32_t>(m.entries.size()));
  std::string buf;
  for (const auto& e : m.entries) {
    buf.clear();
    EncodeEntry(e, &buf);
    PutLengthPrefixed(dst, buf);
  }
  PutLengthPrefixed(dst, m.context);
  PutVarint64(dst, m.snapshot.meta.index);
  PutVarint64(dst, m.snapshot.meta.term);
  buf.clear();
  EncodeConfState(m.snapshot.meta.conf_state, &buf);
  PutLengthPrefixed(dst, buf);
  PutVarint64(dst, m.snapshot_offset);
  PutLengthPrefixed(dst, m.snapshot.data);
}

Status DecodeMessage(std::string_view in, Message* m) {
  RINGKV_RETURN_IF_ERROR(CheckVersion(&in));
  uint8_t type, flags;
  if (!GetU8(&in, &type)) return Bad("truncated message");
  if (type >= kNumMessageTypes) return Bad("bad message type");
  m->type = static_cast<MessageType>(type);
  if (!GetVarint64(&in, &m->from) || !GetVarint64(&in, &m->to) || !GetVarint64(&in, &m->term) ||
      !GetVarint64(&in, &m->log_term) || !GetVarint64(&in, &m->index) ||
      !GetVarint64(&in, &m->commit) || !GetVarint64(&in, &m->reject_hint) ||
      !GetVarint64(&in, &m->group_id) || !GetU8(&in, &flags)) {
    return Bad("truncated message header");
  }
  if (flags > 3) return Bad("bad message flags");
  m->reject = (flags & 1) != 0;
  m->snapshot_done = (flags & 2) != 0;
  uint32_t n;
  if (!GetVarint32(&in, &n)) return Bad("truncated entry count");
  if (n > in.size()) return Bad("entry count exceeds input");
  m->entries.clear();
  m->entries.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    std::string_view eb;
    if (!GetLengthPrefixed(&in, &eb)) return Bad("truncated entry in message");
    Entry e;
    RINGKV_RETURN_IF_ERROR(DecodeEntry(eb, &e));
    m->entries.push_back(std::move(e));
  }
  std::string_view ctx, cs, data;
  if (!GetLengthPrefixed(&in, &ctx) || !GetVarint64(&in, &m->snapshot.meta.index) ||
      !GetVarint64(&in, &m->snapshot.meta.term) || !GetLengthPrefixed(&in, &cs)) {
    return Bad("truncated message tail");
  }
  RINGKV_RETURN_IF_ERROR(DecodeConfState(cs, &m->snapshot.meta.conf_state));
  if (!GetVarint64(&in, &m->snapshot_offset) || !GetLengthPrefixed(&in, &data)) {
    return Bad("truncated snapshot chunk");
  }
  if (!in.empty()) return Bad("trailing bytes after message");
  m->context.assign(ctx);
  m->snapshot.data.assign(data);
  return Status::OK();
}

std::string DescribeEntry(const Entry& e) {
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%llu/%llu %s", static_cast<unsigned long long>(e.term),
                static_cast<unsigned long long>(e.index),
                e.type == EntryType::kConfChange ? "CC" : "EN");
  std::string s(buf);
  if (e.type == EntryType::kNormal) s += " " + e.data.substr(0, 32);
  return s;
}

std::string DescribeConfState(const ConfState& cs) {
  std::string s = "voters=(" + JoinIds(cs.voters) + ")";
  if (!cs.voters_outgoing.empty()) s += "&&(" + JoinIds(cs.voters_outgoing) + ")";
  if (!cs.learners.empty()) s += " learners=(" + JoinIds(cs.learners) + ")";
  if (!cs.learners_next.empty()) s += " learners_next=(" + JoinIds(cs.learners_next) + ")";
  if (cs.auto_leave) s += " autoleave";
  return s;
}

std::string DescribeMessage(const Message& m) {
  char buf[256];
  std::snprintf(buf, sizeof(buf), "%llu->%llu %s Term:%llu Log:%llu/%llu Commit:%llu",
                static_cast<unsigned long long>(m.from), static_cast<unsigned long long>(m.to),
                MessageTypeName(m.type), static_cast<unsigned long long>(m.term),
                static_cast<unsigned long long>(m.log_term),
                static_cast<unsigned long long>(m.index),
                static_cast<unsigned long long>(m.commit));
  std::string s(buf);
  if (m.reject) s += " Rejected (Hint: " + std::to_string(m.reject_hint) + ")";
  if (!m.entries.empty()) {
    s += " Entries:[";
    for (size_t i = 0; i < m.entries.size(); ++i) {
      if (i) s += ", ";
      s += DescribeEntry(m.entries[i]);
    }
    s += "]";
  }
  if (m.type == MessageType::kSnap || m.type == MessageType::kSnapResp) {
    s += " Snapshot: index=" + std::to_string(m.snapshot.meta.index) +
         " term=" + std::to_string(m.snapshot.meta.term) +
         " off=" + std::to_string(m.snapshot_offset) +
         " len=" + std::to_string(m.snapshot.data.size()) + (m.snapshot_done ? " done" : "");
  }
  return s;
}

}  // namespace ringkv::consensus
