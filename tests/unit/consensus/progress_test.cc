// Progress and Inflights: the per-follower flow control state machine.
#include <catch2/catch.hpp>

#include "consensus/progress/progress.h"

namespace ringkv::consensus::progress {

TEST_CASE("inflights: add, full, free", "[consensus][progress]") {
  Inflights in(3);
  CHECK_FALSE(in.Full());
  in.Add(5);
  in.Add(7);
  in.Add(9);
  CHECK(in.Full());
  in.FreeLE(6);
  CHECK(in.Count() == 2);
  CHECK_FALSE(in.Full());
  in.FreeLE(100);
  CHECK(in.Count() == 0);
  in.Add(10);
  in.Reset();
  CHECK(in.Count() == 0);
}

TEST_CASE("inflights: bytes follow the messages added and freed", "[consensus][progress]") {
  Inflights in(8);
  in.Add(5, 100);
  in.Add(7, 50);
  in.Add(9, 25);
  CHECK(in.Bytes() == 175);
  in.FreeLE(7);
  CHECK(in.Bytes() == 25);
  in.FreeFirstOne();
  CHECK(in.Bytes() == 0);
  in.FreeFirstOne();  // empty: nothing to free
  CHECK(in.Bytes() == 0);
  in.Add(12, 40);
  in.Reset();
  CHECK(in.Bytes() == 0);
}

TEST_CASE("progress: probe pauses after one send until answered", "[consensus][progress]") {
  Progress p(4);
  p.match = 3;
  p.next = 5;
  CHECK_FALSE(p.IsPaused());
  p.SentEntries(6, true);
  CHECK(p.IsPaused());
  CHECK(p.next == 5);  // probe does not advance next optimistically
  CHECK(p.MaybeUpdate(6));
  CHECK_FALSE(p.IsPaused());
  CHECK(p.next == 7);
}

TEST_CASE("progress: replicate advances next and is bounded by the window",
          "[consensus][progress]") {
  Progress p(2);
  p.match = 1;
  p.BecomeReplicate();
  CHECK(p.next == 2);
  p.SentEntries(4, true);
  CHECK(p.next == 5);
  p.SentEntries(6, true);
  CHECK(p.IsPaused());
  CHECK(p.MaybeUpdate(4));
  p.inflights.FreeLE(4);
  CHECK_FALSE(p.IsPaused());
  // Stale update is ignored.
  CHECK_FALSE(p.MaybeUpdate(3));
}

TEST_CASE("progress: MaybeDecrTo", "[consensus][progress]") {
  struct Case {
    State state;
    uint64_t match, next, rejected, hint;
    bool want;
    uint64_t want_next;
  };
  std::vector<Case> cases = {
      // Replicate: stale rejection (<= match) is ignored.
      {State::kReplicate, 5, 10, 5, 5, false, 10},
      {State::kReplicate, 5, 10, 4, 4, false, 10},
      // Replicate: otherwise fall back to match+1.
      {State::kReplicate, 5, 10, 9, 9, true, 6},
      // Probe: only a rejection of next-1 counts.
      {State::kProbe, 0, 10, 8, 8, false, 10},
      {State::kProbe, 0, 10, 9, 9, true, 9},
      // Probe: the hint moves next further back (fast backtracking).
      {State::kProbe, 0, 10, 9, 3, true, 4},
      // ... but never below match+1.
      {State::kProbe, 5, 10, 9, 2, true, 6},
  };
  for (const auto& c : cases) {
    Progress p(4);
    p.state = c.state;
    p.match = c.match;
    p.next = c.next;
    CHECK(p.MaybeDecrTo(c.rejected, c.hint) == c.want);
    CHECK(p.next == c.want_next);
  }
}

TEST_CASE("progress: snapshot state pauses and resumes past the snapshot",
          "[consensus][progress]") {
  Progress p(4);
  p.match = 1;
  p.next = 2;
  p.BecomeSnapshot(10);
  CHECK(p.IsPaused());
  CHECK(p.pending_snapshot == 10);
  p.BecomeProbe();
  CHECK(p.next == 11);
  CHECK(p.state == State::kProbe);
}

}  // namespace ringkv::consensus::progress
