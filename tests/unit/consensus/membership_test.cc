// Changer: validation and application of simple and joint conf changes.
#include <catch2/catch.hpp>

#include "consensus/membership/changer.h"

namespace ringkv::consensus::membership {

namespace {
ConfChangeSingle Add(NodeId id) { return {ConfChangeType::kAddNode, id}; }
ConfChangeSingle Learner(NodeId id) { return {ConfChangeType::kAddLearner, id}; }
ConfChangeSingle Remove(NodeId id) { return {ConfChangeType::kRemoveNode, id}; }

ConfigAndProgress Start(const ConfState& cs) {
  auto r = Changer::Restore(cs, 10, 8);
  REQUIRE(r.ok());
  return *r;
}
}  // namespace

TEST_CASE("membership: simple changes one voter at a time", "[consensus][membership]") {
  auto cp = Start(ConfState{{1, 2, 3}});
  Changer ch(cp.config, cp.progress, 10, 8);
  auto r = ch.Simple({Add(4)});
  REQUIRE(r.ok());
  CHECK(r->config.voters.incoming == std::set<NodeId>{1, 2, 3, 4});
  CHECK(r->progress.count(4));
  CHECK(r->progress.at(4).next == 10);
  // Two voters at once without joint consensus is refused.
  auto bad = ch.Simple({Add(4), Add(5)});
  CHECK(bad.status().IsInvalidArgument());
  // Adding learners alongside one voter change is fine.
  CHECK(ch.Simple({Add(4), Learner(5), Learner(6)}).ok());
  // Removing all voters is refused.
  Changer one(Start(ConfState{{1}}).config, Start(ConfState{{1}}).progress, 10, 8);
  CHECK(one.Simple({Remove(1)}).status().IsInvalidArgument());
  // The input is not modified.
  CHECK(cp.config.voters.incoming == std::set<NodeId>{1, 2, 3});
}

TEST_CASE("membership: learner promotion and demotion", "[consensus][membership]") {
  auto cp = Start(ConfState{{1, 2, 3}, {4}});
  CHECK(cp.progress.at(4).is_learner);
  Changer ch(cp.config, cp.progress, 10, 8);
  auto r = ch.Simple({Add(4)});
  REQUIRE(r.ok());
  CHECK(r->config.voters.incoming.count(4));
  CHECK(r->config.learners.empty());
  CHECK_FALSE(r->progress.at(4).is_learner);
  auto d = ch.Simple({Learner(3)});
  REQUIRE(d.ok());
  CHECK(d->config.learners == std::set<NodeId>{3, 4});
  CHECK(d->config.voters.incoming == std::set<NodeId>{1, 2});
}

TEST_CASE("membership: joint consensus enter and leave", "[consensus][membership]") {
  auto cp = Start(ConfState{{1, 2, 3}});
  Changer ch(cp.config, cp.progress, 10, 8);
  // Replace 2 and 3 by 4 and 5, and demote 1... keep 1 as voter.
  auto j = ch.EnterJoint(true, {Add(4), Add(5), Remove(2), Learner(3)});
  REQUIRE(j.ok());
  CHECK(j->config.voters.incoming == std::set<NodeId>{1, 4, 5});
  CHECK(j->config.voters.outgoing == std::set<NodeId>{1, 2, 3});
  CHECK(j->config.learners_next == std::set<NodeId>{3});
  CHECK(j->config.auto_leave);
  CHECK(j->progress.count(2));  // still needed by the outgoing config
  // Cannot enter twice or make simple changes while joint.
  Changer jc(j->config, j->progress, 10, 8);
  CHECK(jc.EnterJoint(false, {Add(6)}).status().IsInvalidArgument());
  CHECK(jc.Simple({Add(6)}).status().IsInvalidArgument());
  auto l = jc.LeaveJoint();
  REQUIRE(l.ok());
  CHECK(l->config.voters.incoming == std::set<NodeId>{1, 4, 5});
  CHECK(l->config.voters.outgoing.empty());
  CHECK(l->config.learners == std::set<NodeId>{3});
  CHECK(l->progress.at(3).is_learner);
  CHECK_FALSE(l->progress.count(2));
  CHECK_FALSE(l->config.auto_leave);
  // Leaving a non-joint config is an error.
  Changer lc(l->config, l->progress, 10, 8);
  CHECK(lc.LeaveJoint().status().IsInvalidArgument());
}

TEST_CASE("membership: restore from a joint conf state", "[consensus][membership]") {
  ConfState cs;
  cs.voters = {1, 4, 5};
  cs.voters_outgoing = {1, 2, 3};
  cs.learners_next = {3};
  cs.auto_leave = true;
  auto cp = Start(cs);
  CHECK(cp.config.voters.incoming == std::set<NodeId>{1, 4, 5});
  CHECK(cp.config.voters.outgoing == std::set<NodeId>{1, 2, 3});
  CHECK(cp.config.learners_next == std::set<NodeId>{3});
  CHECK(cp.progress.size() == 5);
  progress::ProgressTracker t(8);
  t.config = cp.config;
  t.progress = cp.progress;
  CHECK(t.ConfState().Equivalent(cs));
}

}  // namespace ringkv::consensus::membership
