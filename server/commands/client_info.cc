#include "server/commands/client_info.h"

#include <cstdio>

#include "server/client_state.h"
#include "server/commands/command.h"

namespace ringkv::server {

std::string FormatClientInfo(const ClientState& c, const CommandTable& table, int64_t now_ms) {
  // last_command packs the parent index (low 16 bits) and 1 + subcommand index.
  int32_t cmd = c.last_command.load(std::memory_order_relaxed);
  std::string cmd_name = "NULL";
  size_t parent = static_cast<size_t>(cmd & 0xffff);
  size_t sub = static_cast<size_t>(cmd >> 16);
  if (cmd >= 0 && parent < table.all().size()) {
    const CommandSpec& spec = table.all()[parent];
    cmd_name = std::string(sub > 0 && sub <= spec.subcommands.size() ? spec.subcommands[sub - 1].name
                                                                    : spec.name);
  }
  int64_t age_s = (now_ms - c.ctime_ms) / 1000;
  int64_t idle_s = (now_ms - c.last_interaction_ms.load(std::memory_order_relaxed)) / 1000;
  if (idle_s < 0) idle_s = 0;
  if (age_s < 0) age_s = 0;
  uint64_t qbuf = c.query_buffer_bytes.load(std::memory_order_relaxed);
  uint64_t obl = c.output_buffer_bytes.load(std::memory_order_relaxed);
  // Redis's flag letters: c = close after reply, e = no-evict, N = none.
  char flags[4] = {0, 0, 0, 0};
  size_t nflags = 0;
  if (c.close_after_reply || c.kill_requested.load(std::memory_order_relaxed)) flags[nflags++] = 'c';
  if (c.no_evict) flags[nflags++] = 'e';
  if (nflags == 0) flags[0] = 'N';
  char buf[1024];
  std::snprintf(buf, sizeof(buf),
                "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=%d sub=0 "
                "psub=0 ssub=0 multi=-1 qbuf=%llu qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 "
                "obl=%llu oll=0 omem=%llu tot-mem=%llu events=r cmd=%s user=default redir=-1 "
                "resp=%d",
                static_cast<unsigned long long>(c.id), c.addr.c_str(), c.laddr.c_str(), c.fd,
                c.name.c_str(), static_cast<long long>(age_s), static_cast<long long>(idle_s),
                flags, c.db, static_cast<unsigned long long>(qbuf),
                static_cast<unsigned long long>(obl), static_cast<unsigned long long>(obl),
                static_cast<unsigned long long>(qbuf + obl), cmd_name.c_str(), c.resp);
  std::string line(buf);
  if (!c.lib_name.empty() || !c.lib_ver.empty()) {
    line.append(" lib-name=");
    line.append(c.lib_name);
    line.append(" lib-ver=");
    line.append(c.lib_ver);
  }
  return line;
}

}  // namespace ringkv::server
