#include "server/cluster/cluster_config.h"

#include <algorithm>
#include <sstream>

#include "server/commands/arg_parse.h"

namespace ringkv::server::cluster {

Result<std::vector<NodeAddress>> ParseNodeList(std::string_view text) {
  std::vector<NodeAddress> out;
  std::istringstream in{std::string(text)};
  std::string entry;
  while (in >> entry) {
    auto bad = [&](const char* why) {
      return Status::InvalidArgument("cluster.nodes entry '" + entry + "': " + why +
                                     " (want id@host:port:peer-port)");
    };
    size_t at = entry.find('@');
    size_t last = entry.rfind(':');
    size_t mid = last == std::string::npos || last == 0 ? std::string::npos : entry.rfind(':', last - 1);
    if (at == std::string::npos || mid == std::string::npos || mid <= at + 1) return bad("malformed");
    NodeAddress n;
    int64_t id = 0, port = 0, peer = 0;
    if (!ParseInt64(std::string_view(entry).substr(0, at), &id) || id <= 0) return bad("bad id");
    if (!ParseInt64(std::string_view(entry).substr(mid + 1, last - mid - 1), &port) || port <= 0 ||
        port > 65535) {
      return bad("bad port");
    }
    if (!ParseInt64(std::string_view(entry).substr(last + 1), &peer) || peer <= 0 || peer > 65535) {
      return bad("bad peer port");
    }
    n.id = static_cast<uint64_t>(id);
    n.host = entry.substr(at + 1, mid - at - 1);
    n.port = static_cast<int>(port);
    n.peer_port = static_cast<int>(peer);
    for (const NodeAddress& o : out) {
      if (o.id == n.id) return bad("duplicate id");
    }
    out.push_back(std::move(n));
  }
  std::sort(out.begin(), out.end(),
            [](const NodeAddress& a, const NodeAddress& b) { return a.id < b.id; });
  return out;
}

}  // namespace ringkv::server::cluster
