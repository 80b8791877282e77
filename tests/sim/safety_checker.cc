#include "tests/sim/safety_checker.h"

#include <algorithm>

namespace ringkv::sim {

using consensus::Entry;
using consensus::LogStorage;

namespace {
std::string G(uint64_t group) { return "group " + std::to_string(group) + ": "; }
}  // namespace

bool SafetyChecker::ObserveLeader(GroupId group, uint64_t term, NodeId node, bool* is_new,
                                  std::string* error) {
  auto [it, inserted] = leaders_.emplace(std::make_pair(group, term), node);
  *is_new = inserted;
  if (!inserted && it->second != node) {
    *error = G(group) + "election safety violated: nodes " + std::to_string(it->second) +
             " and " + std::to_string(node) + " are both leader in term " + std::to_string(term);
    return false;
  }
  return true;
}

bool SafetyChecker::OnApply(GroupId group, NodeId node, const Entry& e, std::string* error) {
  auto& m = applied_[group];
  auto [it, inserted] = m.emplace(e.index, Applied{e.term, e.data, node});
  if (!inserted && (it->second.term != e.term || it->second.data != e.data)) {
    *error = G(group) + "state machine safety violated at index " + std::to_string(e.index) +
             ": node " + std::to_string(it->second.first_node) + " applied term " +
             std::to_string(it->second.term) + ", node " + std::to_string(node) +
             " applied term " + std::to_string(e.term) +
             (it->second.term == e.term ? " with different data" : "");
    return false;
  }
  return true;
}

bool SafetyChecker::OnSnapshot(GroupId group, NodeId node, uint64_t index, const std::string& data,
                               std::string* error) {
  auto& m = snapshots_[group];
  auto [it, inserted] = m.emplace(index, std::make_pair(data, node));
  if (!inserted && it->second.first != data) {
    *error = G(group) + "state machine safety violated: snapshots at index " +
             std::to_string(index) + " of nodes " + std::to_string(it->second.second) + " and " +
             std::to_string(node) + " differ";
    return false;
  }
  return true;
}

bool SafetyChecker::CheckLogMatching(
    GroupId group, const std::vector<std::pair<NodeId, const LogStorage*>>& logs,
    std::string* error) const {
  for (size_t a = 0; a < logs.size(); a++) {
    for (size_t b = a + 1; b < logs.size(); b++) {
      const LogStorage& la = *logs[a].second;
      const LogStorage& lb = *logs[b].second;
      const uint64_t lo = std::max(la.FirstIndex(), lb.FirstIndex());
      const uint64_t hi = std::min(la.LastIndex(), lb.LastIndex());
      if (lo > hi) continue;
      auto ea = la.Entries(lo, hi + 1, consensus::kNoLimit);
      auto eb = lb.Entries(lo, hi + 1, consensus::kNoLimit);
      RINGKV_CHECK(ea.ok() && eb.ok());
      RINGKV_CHECK(ea->size() == hi - lo + 1 && eb->size() == hi - lo + 1);
      // The highest index where the terms agree; everything up to it must be equal.
      size_t top = ea->size();
      while (top > 0 && (*ea)[top - 1].term != (*eb)[top - 1].term) top--;
      for (size_t i = 0; i < top; i++) {
        if (!((*ea)[i] == (*eb)[i])) {
          *error = G(group) + "log matching violated: nodes " + std::to_string(logs[a].first) +
                   " and " + std::to_string(logs[b].first) + " agree on term " +
                   std::to_string((*ea)[top - 1].term) + " at index " +
                   std::to_string(lo + top - 1) + " but differ at index " +
                   std::to_string(lo + i) + " (" + consensus::DescribeEntry((*ea)[i]) + " vs " +
                   consensus::DescribeEntry((*eb)[i]) + ")";
          return false;
        }
      }
    }
  }
  return true;
}

bool SafetyChecker::CheckLeaderCompleteness(GroupId group, NodeId node, uint64_t term,
                                            uint64_t commit, const LogStorage& log,
                                            std::string* error) {
  const uint64_t first = log.FirstIndex();
  const uint64_t last = log.LastIndex();
  auto& recs = committed_[group];
  uint64_t& upto = recorded_upto_[{group, term}];
  for (uint64_t i = std::max(upto + 1, first); i <= std::min(commit, last); i++) {
    auto t = log.Term(i);
    RINGKV_CHECK(t.ok());
    auto [it, inserted] = recs.emplace(i, Committed{term, *t});
    if (inserted) continue;
    if (it->second.entry_term != *t) {
      *error = G(group) + "two leaders committed different entries at index " +
               std::to_string(i) + ": terms " + std::to_string(it->second.entry_term) + " and " +
               std::to_string(*t) + " (leader " + std::to_string(node) + ", term " +
               std::to_string(term) + ")";
      return false;
    }
    it->second.commit_term = std::min(it->second.commit_term, term);
  }
  upto = std::max(upto, std::min(commit, last));
  auto last_term = log.Term(last);
  const bool wrote_own_entry = last_term.ok() && *last_term == term;
  for (const auto& [index, rec] : recs) {
    if (rec.commit_term >= term) continue;
    if (index > last) {
      if (!wrote_own_entry) break;
      *error = G(group) + "leader completeness violated: leader " + std::to_string(node) +
               " of term " + std::to_string(term) + " has log up to " + std::to_string(last) +
               " but index " + std::to_string(index) + " was committed in term " +
               std::to_string(rec.commit_term);
      return false;
    }
    if (index < first) continue;
    auto t = log.Term(index);
    RINGKV_CHECK(t.ok());
    if (*t != rec.entry_term) {
      *error = G(group) + "leader completeness violated: leader " + std::to_string(node) +
               " of term " + std::to_string(term) + " has term " + std::to_string(*t) +
               " at index " + std::to_string(index) + " where term " +
               std::to_string(rec.entry_term) + " was committed in term " +
               std::to_string(rec.commit_term);
      return false;
    }
  }
  return true;
}

bool SafetyChecker::CheckLeaderCommitTerm(GroupId group, NodeId node, uint64_t term,
                                          uint64_t commit, const LogStorage& log,
                                          std::string* error) {
  auto [it, first_seen] = leader_commit_seen_.emplace(std::make_pair(group, term), commit);
  if (first_seen || commit <= it->second) return true;
  it->second = commit;
  auto t = log.Term(commit);
  if (!t.ok()) return true;  // compacted or not yet written: nothing to compare
  if (*t != term) {
    *error = G(group) + "leader " + std::to_string(node) + " of term " + std::to_string(term) +
             " advanced its commit index to " + std::to_string(commit) +
             ", an entry of term " + std::to_string(*t) +
             " (a leader commits only entries of its own term, Raft paper 5.4.2)";
    return false;
  }
  return true;
}

uint64_t SafetyChecker::MaxApplied(GroupId group) const {
  auto it = applied_.find(group);
  if (it == applied_.end() || it->second.empty()) return 0;
  return it->second.rbegin()->first;
}

}  // namespace ringkv::sim
