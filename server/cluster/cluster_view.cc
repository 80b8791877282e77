#include "server/cluster/cluster_view.h"

#include <cinttypes>
#include <cstdio>

namespace ringkv::server::cluster {

std::string NodeName(uint64_t id) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%040" PRIx64, id);
  return buf;
}

}  // namespace ringkv::server::cluster
