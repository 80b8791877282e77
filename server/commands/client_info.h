// Formatting of a client as CLIENT LIST / CLIENT INFO print it (Redis 7.0's
// field order). REQUIRES: the ClientRegistry mutex held (reads the name).
#pragma once

#include <cstdint>
#include <string>

namespace ringkv::server {

struct ClientState;
class CommandTable;

std::string FormatClientInfo(const ClientState& c, const CommandTable& table, int64_t now_ms);

}  // namespace ringkv::server
