// Interaction scripts, in the manner of etcd-io/raft's testdata/*.txt: each file in
// tests/unit/consensus/testdata/ drives a test::Network step by step and states what
// must hold after each step. One command per line; '#' starts a comment.
//
// Setup and actions:
//   network N [prevote] [checkquorum] [lease]   nodes 1..N, all voters
//   campaign ID          the node starts an election (messages wait for stabilize)
//   stabilize            deliver messages until nothing moves
//   tick ID K            K ticks of one node (no delivery)
//   tick-all K           K rounds of: every node ticks once, then stabilize
//   isolate ID | cut A B | recover                     partitions
//   propose ID DATA      proposal at node ID (must be accepted)
//   propose-fails ID DATA                           proposal must be refused
//   read-index ID CTX    ReadIndex request at node ID
//   transfer ID TO       ask node ID (the leader) to hand leadership to TO
//   restart ID           drop volatile state, restart from storage
// Expectations (the script fails at the first one that does not hold):
//   expect leader ID          the unique leader of the highest term is ID (0: none)
//   expect role ID ROLE       follower | precandidate | candidate | leader
//   expect term ID T
//   expect commit ID C        the node's commit index
//   expect applied ID DATA    DATA is among the node's applied entries
//   expect read ID CTX        node ID got a read state for CTX at the leader's commit
//   expect no-read ID CTX     node ID got no read state for CTX
//   expect invariants         the cluster invariants checker passes
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/unit/consensus/network.h"

namespace ringkv::consensus {
namespace {

#ifndef RINGKV_CONSENSUS_TESTDATA
#error "RINGKV_CONSENSUS_TESTDATA must name tests/unit/consensus/testdata"
#endif

std::vector<std::string> Split(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

NodeId Id(const std::string& s) { return static_cast<NodeId>(std::stoull(s)); }

class Script {
 public:
  // Runs the whole file; returns "" or "file:line: what went wrong".
  std::string Run(const std::string& path) {
    std::ifstream in(path);
    if (!in) return path + ": cannot open";
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
      ++lineno;
      auto hash = line.find('#');
      if (hash != std::string::npos) line.resize(hash);
      auto words = Split(line);
      if (words.empty()) continue;
      std::string err = Step(words);
      if (!err.empty()) return path + ":" + std::to_string(lineno) + ": " + err;
      ++commands_;
    }
    if (commands_ == 0) return path + ": no commands";
    return "";
  }
  int commands() const { return commands_; }

 private:
  std::string Step(const std::vector<std::string>& w) {
    const std::string& cmd = w[0];
    if (cmd == "network") return NewNetwork(w);
    if (!net_) return "no network yet";
    test::Network& net = *net_;
    auto need = [&](size_t n) { return w.size() == n; };
    if (cmd == "campaign" && need(2)) {
      net.Campaign(Id(w[1]));
    } else if (cmd == "stabilize" && need(1)) {
      net.Stabilize();
    } else if (cmd == "tick" && need(3)) {
      net.Tick(Id(w[1]), std::stoi(w[2]));
    } else if (cmd == "tick-all" && need(2)) {
      net.TickAndStabilize(std::stoi(w[1]));
    } else if (cmd == "isolate" && need(2)) {
      net.Isolate(Id(w[1]));
    } else if (cmd == "cut" && need(3)) {
      net.Cut(Id(w[1]), Id(w[2]));
    } else if (cmd == "recover" && need(1)) {
      net.Recover();
    } else if (cmd == "propose" && need(3)) {
      Status s = net.Propose(Id(w[1]), w[2]);
      if (!s.ok()) return "proposal refused: " + s.ToString();
    } else if (cmd == "propose-fails" && need(3)) {
      if (net.Propose(Id(w[1]), w[2]).ok()) return "proposal accepted";
    } else if (cmd == "read-index" && need(3)) {
      net.raw(Id(w[1])).ReadIndex(w[2]);
    } else if (cmd == "transfer" && need(3)) {
      net.raw(Id(w[1])).TransferLeader(Id(w[2]));
    } else if (cmd == "restart" && need(2)) {
      net.Restart(Id(w[1]));
    } else if (cmd == "expect" && w.size() >= 2) {
      return Expect(w);
    } else {
      return "unknown command or wrong arguments: " + cmd;
    }
    return "";
  }

  std::string NewNetwork(const std::vector<std::string>& w) {
    if (w.size() < 2) return "network N [prevote] [checkquorum] [lease]";
    bool prevote = false, cq = false, lease = false;
    for (size_t i = 2; i < w.size(); ++i) {
      if (w[i] == "prevote") {
        prevote = true;
      } else if (w[i] == "checkquorum") {
        cq = true;
      } else if (w[i] == "lease") {
        lease = true;
      } else {
        return "unknown network option " + w[i];
      }
    }
    net_ = std::make_unique<test::Network>(std::stoi(w[1]), [=](Config* c) {
      c->pre_vote = prevote;
      c->check_quorum = cq || lease;
      if (lease) c->read_only_option = ReadOnlyOption::kLeaseBased;
    });
    return "";
  }

  std::string Expect(const std::vector<std::string>& w) {
    test::Network& net = *net_;
    const std::string& what = w[1];
    auto got = [](const std::string& name, uint64_t want, uint64_t have) {
      if (want == have) return std::string();
      return name + ": want " + std::to_string(want) + ", got " + std::to_string(have);
    };
    if (what == "leader" && w.size() == 3) return got("leader", Id(w[2]), net.Leader());
    if (what == "invariants" && w.size() == 2) {
      Status s = net.Check();
      return s.ok() ? "" : "invariants: " + s.ToString();
    }
    if (w.size() != 4) return "bad expect";
    const NodeId id = Id(w[2]);
    const Raft& r = net.raw(id).raft();
    if (what == "role") {
      // RoleName spells "pre-candidate"; scripts may write "precandidate".
      std::string have = RoleName(r.role());
      have.erase(std::remove(have.begin(), have.end(), '-'), have.end());
      if (have != w[3]) return "role of " + w[2] + ": want " + w[3] + ", got " + have;
      return "";
    }
    if (what == "term") return got("term of " + w[2], std::stoull(w[3]), r.term());
    if (what == "commit") return got("commit of " + w[2], std::stoull(w[3]), r.log().committed());
    if (what == "applied") {
      const auto& a = net.node(id).applied;
      if (std::find(a.begin(), a.end(), w[3]) == a.end()) return w[3] + " not applied at " + w[2];
      return "";
    }
    if (what == "read" || what == "no-read") {
      const auto& rs = net.node(id).read_states;
      auto it = std::find_if(rs.begin(), rs.end(),
                             [&](const ReadState& s) { return s.request_ctx == w[3]; });
      if (what == "no-read") return it == rs.end() ? "" : "unexpected read state " + w[3];
      if (it == rs.end()) return "no read state " + w[3] + " at " + w[2];
      const NodeId leader = net.Leader();
      if (leader == kNoNode) return "read state but no leader";
      return got("read index of " + w[3], net.raw(leader).raft().log().committed(), it->index);
    }
    return "unknown expectation " + what;
  }

  std::unique_ptr<test::Network> net_;
  int commands_ = 0;
};

}  // namespace

TEST_CASE("interaction scripts (testdata/*.txt)", "[consensus][interaction]") {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(RINGKV_CONSENSUS_TESTDATA)) {
    if (e.path().extension() == ".txt") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 4);
  for (const auto& f : files) {
    Script s;
    const std::string err = s.Run(f);
    INFO(f);
    CHECK(err == "");
    CHECK(s.commands() > 0);
  }
}

TEST_CASE("interaction scripts: a failing expectation is reported with its line",
          "[consensus][interaction]") {
  const std::string path =
      (std::filesystem::temp_directory_path() / "ringkv_interaction_selftest.txt").string();
  {
    std::ofstream out(path);
    out << "network 3\ncampaign 1\nstabilize\nexpect leader 2  # wrong on purpose\n";
  }
  Script s;
  const std::string err = s.Run(path);
  std::filesystem::remove(path);
  CHECK(err.find(":4: leader: want 2, got 1") != std::string::npos);
}

}  // namespace ringkv::consensus
