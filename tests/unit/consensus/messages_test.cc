// Encoding of messages, entries, conf changes: round trips and malformed input.
#include <catch2/catch.hpp>

#include "consensus/messages.h"

namespace ringkv::consensus {

namespace {
Message Sample() {
  Message m;
  m.type = MessageType::kSnap;
  m.from = 3;
  m.to = 70000;
  m.term = 12;
  m.log_term = 11;
  m.index = 1ull << 40;
  m.commit = 99;
  m.reject = true;
  m.reject_hint = 77;
  m.entries = {Entry{11, 5, EntryType::kNormal, "hello"},
               Entry{12, 6, EntryType::kConfChange, std::string("\0\1\2", 3)}};
  m.snapshot.meta = SnapshotMeta{50, 10, ConfState{{1, 2}, {3}, {4}, {}, true}};
  m.snapshot.data = "chunk-bytes";
  m.snapshot_offset = 4096;
  m.snapshot_done = true;
  m.context = "ctx";
  m.group_id = 42;
  return m;
}
}  // namespace

TEST_CASE("messages: message round trip", "[consensus][codec]") {
  Message m = Sample();
  std::string buf;
  EncodeMessage(m, &buf);
  Message d;
  REQUIRE(DecodeMessage(buf, &d).ok());
  CHECK(d == m);
  // Default message too.
  buf.clear();
  EncodeMessage(Message{}, &buf);
  REQUIRE(DecodeMessage(buf, &d).ok());
  CHECK(d == Message{});
}

TEST_CASE("messages: every truncation of a message is rejected", "[consensus][codec]") {
  std::string buf;
  EncodeMessage(Sample(), &buf);
  for (size_t n = 0; n < buf.size(); ++n) {
    Message d;
    CHECK(DecodeMessage(std::string_view(buf.data(), n), &d).IsCorruption());
  }
  Message d;
  CHECK(DecodeMessage(buf + "x", &d).IsCorruption());  // trailing bytes
  std::string bad = buf;
  bad[0] = 2;  // unknown version
  CHECK(DecodeMessage(bad, &d).IsCorruption());
  bad = buf;
  bad[1] = static_cast<char>(kNumMessageTypes);  // unknown type
  CHECK(DecodeMessage(bad, &d).IsCorruption());
}

TEST_CASE("messages: entry, conf change, hard state, conf state round trip",
          "[consensus][codec]") {
  Entry e{7, 9, EntryType::kConfChange, "x"};
  std::string b;
  EncodeEntry(e, &b);
  Entry de;
  REQUIRE(DecodeEntry(b, &de).ok());
  CHECK(de == e);
  CHECK(DecodeEntry(b.substr(0, b.size() - 1), &de).IsCorruption());

  ConfChange cc;
  cc.transition = ConfChangeTransition::kJointExplicit;
  cc.changes = {{ConfChangeType::kAddLearner, 4}, {ConfChangeType::kRemoveNode, 2}};
  cc.context = "why";
  b.clear();
  EncodeConfChange(cc, &b);
  ConfChange dcc;
  REQUIRE(DecodeConfChange(b, &dcc).ok());
  CHECK(dcc == cc);
  for (size_t n = 0; n < b.size(); ++n) {
    CHECK(DecodeConfChange(std::string_view(b.data(), n), &dcc).IsCorruption());
  }

  HardState hs{5, 2, 100};
  b.clear();
  EncodeHardState(hs, &b);
  HardState dhs;
  REQUIRE(DecodeHardState(b, &dhs).ok());
  CHECK(dhs == hs);

  ConfState cs{{1, 2, 3}, {4}, {1, 2}, {2}, true};
  b.clear();
  EncodeConfState(cs, &b);
  ConfState dcs;
  REQUIRE(DecodeConfState(b, &dcs).ok());
  CHECK(dcs == cs);
}

TEST_CASE("messages: a huge entry count in a short input is rejected", "[consensus][codec]") {
  // version, type, 8 varint zeros, flags, then count = 2^28 with no entries.
  std::string b = {1, static_cast<char>(MessageType::kApp), 0, 0, 0, 0, 0, 0, 0, 0, 0};
  b += std::string("\x80\x80\x80\x80\x01", 5);
  Message m;
  CHECK(DecodeMessage(b, &m).IsCorruption());
}

}  // namespace ringkv::consensus
