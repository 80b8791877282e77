// The static membership a cluster starts from (config key cluster.nodes):
// "id@host:port:peer-port" entries separated by spaces, e.g.
//   "1@127.0.0.1:7001:17001 2@127.0.0.1:7002:17002 3@127.0.0.1:7003:17003"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/status.h"

namespace ringkv::server::cluster {

struct NodeAddress {
  uint64_t id = 0;
  std::string host;
  int port = 0;
  int peer_port = 0;
};

// Sorted by id. InvalidArgument naming the bad entry: malformed, id 0,
// duplicate id, port out of range.
Result<std::vector<NodeAddress>> ParseNodeList(std::string_view text);

}  // namespace ringkv::server::cluster
