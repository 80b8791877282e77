// INFO: builds Redis 7.0's INFO text (sections, field names, "# Section"
// headers, CRLF line ends) from the server's live state. Thread-safe: reads
// atomics, the registry and the shards under their own locks.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace ringkv::server {

struct ServerContext;

// `sections` are INFO's arguments (empty = "default"); unknown names yield
// nothing, as in Redis.
std::string BuildInfo(ServerContext* server, std::span<const std::string_view> sections,
                      int64_t now_ms);

// Human form of a byte count as Redis's bytesToHuman ("1.50M").
std::string BytesToHuman(int64_t n);

}  // namespace ringkv::server
