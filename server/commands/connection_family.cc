// The connection family: PING, ECHO, HELLO, QUIT, RESET, SELECT, AUTH, CLIENT.
// Replies and error texts follow Redis 7.0 (networking.c clientCommand,
// server.c helloCommand, acl.c authCommand).
#include <mutex>
#include <string>

#include "server/client_state.h"
#include "server/commands/arg_parse.h"
#include "server/commands/client_info.h"
#include "server/commands/command.h"
#include "server/commands/errors.h"
#include "server/config/config.h"
#include "server/net/client_registry.h"
#include "server/server_context.h"

namespace ringkv::server {

namespace {

constexpr std::string_view kRedisVersion = "7.0.15";

// Constant-time comparison of a password guess, so timing does not leak it.
bool PasswordMatches(std::string_view guess, const std::string& real) {
  if (guess.size() != real.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < real.size(); ++i) {
    diff |= static_cast<unsigned char>(guess[i] ^ real[i]);
  }
  return diff == 0;
}

std::string RequirePass(const ServerContext* server) {
  std::lock_guard<std::mutex> lock(ConfigMutex());
  return server->config->requirepass;
}

// ACL-less authentication of the "default" user: true on success; otherwise
// replies the Redis error and returns false.
bool AuthenticateOrReply(CommandContext& ctx, std::string_view user, std::string_view pass) {
  std::string real = RequirePass(ctx.server);
  bool ok = user == "default" && (real.empty() || PasswordMatches(pass, real));
  if (!ok) {
    ctx.reply->Error(errors::kWrongPass);
    return false;
  }
  ctx.client->authenticated = true;
  return true;
}

// Redis's validateClientName: printable ASCII without spaces.
bool ValidClientName(std::string_view name) {
  for (char c : name) {
    if (c < '!' || c > '~') return false;
  }
  return true;
}

constexpr std::string_view kBadName =
    "ERR Client names cannot contain spaces, newlines or special characters.";

void SetName(CommandContext& ctx, std::string_view name) {
  std::lock_guard<std::mutex> lock(ctx.server->clients->mu());
  ctx.client->name = std::string(name);
}

void CmdPing(CommandContext& ctx) {
  if (ctx.args.size() > 2) {
    ctx.reply->Error(errors::WrongArity("ping"));
  } else if (ctx.args.size() == 1) {
    ctx.reply->SimpleString("PONG");
  } else {
    ctx.reply->Bulk(ctx.args[1]);
  }
}

void CmdEcho(CommandContext& ctx) { ctx.reply->Bulk(ctx.args[1]); }

void CmdQuit(CommandContext& ctx) {
  ctx.reply->Ok();
  ctx.client->close_after_reply = true;
}

void CmdSelect(CommandContext& ctx) {
  int64_t db;
  if (!ParseInt64OrReply(ctx.reply, ctx.args[1], &db, "ERR invalid DB index")) return;
  if (db != 0) {
    ctx.reply->Error(errors::kDbIndexOutOfRange);
    return;
  }
  ctx.reply->Ok();
}

void CmdAuth(CommandContext& ctx) {
  if (ctx.args.size() > 3) {
    ctx.reply->Error(errors::kSyntax);
    return;
  }
  if (ctx.args.size() == 2) {
    if (RequirePass(ctx.server).empty()) {
      ctx.reply->Error(
          "ERR AUTH <password> called without any password configured for the default user. "
          "Are you sure your configuration is correct?");
      return;
    }
    if (AuthenticateOrReply(ctx, "default", ctx.args[1])) ctx.reply->Ok();
    return;
  }
  if (AuthenticateOrReply(ctx, ctx.args[1], ctx.args[2])) ctx.reply->Ok();
}

void CmdHello(CommandContext& ctx) {
  int64_t ver = 0;
  size_t i = 1;
  if (ctx.args.size() >= 2) {
    if (!ParseInt64(ctx.args[1], &ver)) {
      ctx.reply->Error("ERR Protocol version is not an integer or out of range");
      return;
    }
    i = 2;
    if (ver < 2 || ver > 3) {
      ctx.reply->Error("NOPROTO unsupported protocol version");
      return;
    }
  }
  std::string_view user, pass, name;
  bool has_auth = false, has_name = false;
  for (; i < ctx.args.size(); ++i) {
    size_t more = ctx.args.size() - i - 1;
    if (EqualsIgnoreCase(ctx.args[i], "AUTH") && more >= 2) {
      has_auth = true;
      user = ctx.args[i + 1];
      pass = ctx.args[i + 2];
      i += 2;
    } else if (EqualsIgnoreCase(ctx.args[i], "SETNAME") && more >= 1) {
      has_name = true;
      name = ctx.args[i + 1];
      i += 1;
    } else {
      ctx.reply->Error("ERR Syntax error in HELLO option '" + std::string(ctx.args[i]) + "'");
      return;
    }
  }
  if (has_auth && !AuthenticateOrReply(ctx, user, pass)) return;
  if (!ctx.client->authenticated) {
    ctx.reply->Error(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
        "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
        "select the RESP protocol version at the same time");
    return;
  }
  if (has_name) {
    if (!ValidClientName(name)) {
      ctx.reply->Error(kBadName);
      return;
    }
    SetName(ctx, name);
  }
  if (ver != 0) {
    ctx.client->resp = static_cast<int>(ver);
    ctx.reply->set_resp_version(static_cast<int>(ver));
  }
  ReplyBuilder* r = ctx.reply;
  r->MapHeader(7);
  r->Bulk("server");
  r->Bulk("redis");
  r->Bulk("version");
  r->Bulk(kRedisVersion);
  r->Bulk("proto");
  r->Integer(ctx.client->resp);
  r->Bulk("id");
  r->Integer(static_cast<int64_t>(ctx.client->id));
  r->Bulk("mode");
  r->Bulk("standalone");
  r->Bulk("role");
  r->Bulk("master");
  r->Bulk("modules");
  r->ArrayHeader(0);
}

void CmdReset(CommandContext& ctx) {
  ClientState* c = ctx.client;
  c->resp = 2;
  ctx.reply->set_resp_version(2);
  c->reply_mode = ReplyMode::kOn;
  c->no_evict = false;
  c->db = 0;
  SetName(ctx, "");
  c->authenticated = RequirePass(ctx.server).empty();
  ctx.reply->SimpleString("RESET");
}

// ---- CLIENT ----------------------------------------------------------------

void ClientHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "ID",
      "    Return the ID of the current connection.",
      "INFO",
      "    Return information about the current client connection.",
      "GETNAME",
      "    Return the name of the current connection.",
      "KILL <ip:port>",
      "    Kill connection made from <ip:port>.",
      "KILL <option> <value> [<option> <value> [...]]",
      "    Kill connections. Options are: ID <client-id>, ADDR <ip:port>, LADDR <ip:port>,",
      "    TYPE normal, USER <username>, SKIPME (YES|NO), MAXAGE <seconds>.",
      "LIST [options ...]",
      "    Return information about client connections. Options: TYPE normal, ID id [id ...]",
      "NO-EVICT (ON|OFF)",
      "    Protect the current client connection from eviction in the case of OOM.",
      "REPLY (ON|OFF|SKIP)",
      "    Control the replies sent to the current connection.",
      "SETNAME <name>",
      "    Assign the name <name> to the current connection.",
      "SETINFO <LIB-NAME|LIB-VER> <value>",
      "    Set client library name or version.",
      "HELP",
      "    Print this help.",
  };
  ctx.reply->ArrayHeader(std::size(kLines));
  for (std::string_view l : kLines) ctx.reply->SimpleString(l);
}

void ClientList(CommandContext& ctx) {
  // Options: TYPE normal|master|replica|pubsub, ID id [id ...].
  std::vector<uint64_t> ids;
  bool type_filter_none = false;
  for (size_t i = 2; i < ctx.args.size(); ++i) {
    if (EqualsIgnoreCase(ctx.args[i], "TYPE") && i + 1 < ctx.args.size()) {
      std::string_view t = ctx.args[++i];
      if (EqualsIgnoreCase(t, "normal")) {
      } else if (EqualsIgnoreCase(t, "master") || EqualsIgnoreCase(t, "replica") ||
                 EqualsIgnoreCase(t, "slave") || EqualsIgnoreCase(t, "pubsub")) {
        type_filter_none = true;
      } else {
        ctx.reply->Error("ERR Unknown client type '" + std::string(t) + "'");
        return;
      }
    } else if (EqualsIgnoreCase(ctx.args[i], "ID") && i + 1 < ctx.args.size()) {
      for (++i; i < ctx.args.size(); ++i) {
        int64_t id;
        if (!ParseInt64(ctx.args[i], &id) || id <= 0) {
          ctx.reply->Error("ERR Invalid client ID");
          return;
        }
        ids.push_back(static_cast<uint64_t>(id));
      }
    } else {
      ctx.reply->Error(errors::kSyntax);
      return;
    }
  }
  std::string out;
  if (!type_filter_none) {
    ctx.server->clients->ForEach([&](ClientState& c) {
      if (!ids.empty() && std::find(ids.begin(), ids.end(), c.id) == ids.end()) return;
      out += FormatClientInfo(c, *ctx.server->commands, ctx.now_ms);
      out += '\n';
    });
  }
  ctx.reply->Verbatim(out);
}

void ClientInfo(CommandContext& ctx) {
  std::string line;
  {
    std::lock_guard<std::mutex> lock(ctx.server->clients->mu());
    line = FormatClientInfo(*ctx.client, *ctx.server->commands, ctx.now_ms);
  }
  line += '\n';
  ctx.reply->Verbatim(line);
}

void ClientKill(CommandContext& ctx) {
  ClientRegistry* reg = ctx.server->clients;
  if (ctx.args.size() == 3) {
    // Old form: CLIENT KILL addr:port, "ERR No such client" when nobody matches.
    std::string addr(ctx.args[2]);
    size_t n = reg->Kill([&](const ClientState& c) { return c.addr == addr; }, ctx.client);
    if (n == 0) {
      ctx.reply->Error("ERR No such client");
    } else {
      ctx.reply->Ok();
    }
    return;
  }
  if ((ctx.args.size() - 2) % 2 != 0) {
    ctx.reply->Error(errors::kSyntax);
    return;
  }
  uint64_t id = 0;
  std::string addr, laddr;
  bool skipme = true;
  int64_t maxage = 0;
  bool none = false;
  for (size_t i = 2; i + 1 < ctx.args.size(); i += 2) {
    std::string_view opt = ctx.args[i], val = ctx.args[i + 1];
    if (EqualsIgnoreCase(opt, "ID")) {
      int64_t v;
      if (!ParseInt64(val, &v) || v <= 0) {
        ctx.reply->Error("ERR client-id should be greater than 0");
        return;
      }
      id = static_cast<uint64_t>(v);
    } else if (EqualsIgnoreCase(opt, "ADDR")) {
      addr = std::string(val);
    } else if (EqualsIgnoreCase(opt, "LADDR")) {
      laddr = std::string(val);
    } else if (EqualsIgnoreCase(opt, "TYPE")) {
      if (EqualsIgnoreCase(val, "normal")) {
      } else if (EqualsIgnoreCase(val, "master") || EqualsIgnoreCase(val, "replica") ||
                 EqualsIgnoreCase(val, "slave") || EqualsIgnoreCase(val, "pubsub")) {
        none = true;
      } else {
        ctx.reply->Error("ERR Unknown client type '" + std::string(val) + "'");
        return;
      }
    } else if (EqualsIgnoreCase(opt, "USER")) {
      if (val != "default") {
        ctx.reply->Error("ERR No such user '" + std::string(val) + "'");
        return;
      }
    } else if (EqualsIgnoreCase(opt, "SKIPME")) {
      if (EqualsIgnoreCase(val, "yes")) {
        skipme = true;
      } else if (EqualsIgnoreCase(val, "no")) {
        skipme = false;
      } else {
        ctx.reply->Error(errors::kSyntax);
        return;
      }
    } else if (EqualsIgnoreCase(opt, "MAXAGE")) {
      if (!ParseInt64(val, &maxage)) {
        ctx.reply->Error(errors::kSyntax);
        return;
      }
    } else {
      ctx.reply->Error(errors::kSyntax);
      return;
    }
  }
  size_t n = 0;
  if (!none) {
    int64_t now = ctx.now_ms;
    ClientState* self = ctx.client;
    n = reg->Kill(
        [&](const ClientState& c) {
          if (id != 0 && c.id != id) return false;
          if (!addr.empty() && c.addr != addr) return false;
          if (!laddr.empty() && c.laddr != laddr) return false;
          if (skipme && &c == self) return false;
          if (maxage > 0 && (now - c.ctime_ms) / 1000 < maxage) return false;
          return true;
        },
        self);
  }
  ctx.reply->Integer(static_cast<int64_t>(n));
}

void ClientReply(CommandContext& ctx) {
  std::string_view mode = ctx.args[2];
  if (EqualsIgnoreCase(mode, "ON")) {
    ctx.client->reply_mode = ReplyMode::kOn;
    ctx.reply->Ok();
  } else if (EqualsIgnoreCase(mode, "OFF")) {
    ctx.client->reply_mode = ReplyMode::kOff;
  } else if (EqualsIgnoreCase(mode, "SKIP")) {
    if (ctx.client->reply_mode == ReplyMode::kOn) ctx.client->reply_mode = ReplyMode::kSkipNext;
  } else {
    ctx.reply->Error(errors::kSyntax);
  }
}

void CmdClient(CommandContext& ctx) {
  std::string_view sub = ctx.args[1];
  size_t argc = ctx.args.size();
  auto arity_error = [&]() {
    std::string s = "client|";
    for (char ch : sub) s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
    ctx.reply->Error(errors::WrongArity(s));
  };
  if (EqualsIgnoreCase(sub, "HELP") && argc == 2) {
    ClientHelp(ctx);
  } else if (EqualsIgnoreCase(sub, "ID")) {
    if (argc != 2) return arity_error();
    ctx.reply->Integer(static_cast<int64_t>(ctx.client->id));
  } else if (EqualsIgnoreCase(sub, "GETNAME")) {
    if (argc != 2) return arity_error();
    if (ctx.client->name.empty()) {
      ctx.reply->Null();
    } else {
      ctx.reply->Bulk(ctx.client->name);
    }
  } else if (EqualsIgnoreCase(sub, "SETNAME")) {
    if (argc != 3) return arity_error();
    if (!ValidClientName(ctx.args[2])) {
      ctx.reply->Error(kBadName);
      return;
    }
    SetName(ctx, ctx.args[2]);
    ctx.reply->Ok();
  } else if (EqualsIgnoreCase(sub, "SETINFO")) {
    if (argc != 4) return arity_error();
    std::string_view attr = ctx.args[2], val = ctx.args[3];
    for (char ch : val) {
      if (ch < '!' || ch > '~') {
        ctx.reply->Error("ERR " + std::string(attr) +
                         " cannot contain spaces, newlines or special characters.");
        return;
      }
    }
    std::lock_guard<std::mutex> lock(ctx.server->clients->mu());
    if (EqualsIgnoreCase(attr, "LIB-NAME")) {
      ctx.client->lib_name = std::string(val);
    } else if (EqualsIgnoreCase(attr, "LIB-VER")) {
      ctx.client->lib_ver = std::string(val);
    } else {
      ctx.reply->Error("ERR Unrecognized option '" + std::string(attr) + "'");
      return;
    }
    ctx.reply->Ok();
  } else if (EqualsIgnoreCase(sub, "LIST")) {
    ClientList(ctx);
  } else if (EqualsIgnoreCase(sub, "INFO")) {
    if (argc != 2) return arity_error();
    ClientInfo(ctx);
  } else if (EqualsIgnoreCase(sub, "KILL")) {
    if (argc < 3) return arity_error();
    ClientKill(ctx);
  } else if (EqualsIgnoreCase(sub, "REPLY")) {
    if (argc != 3) return arity_error();
    ClientReply(ctx);
  } else if (EqualsIgnoreCase(sub, "NO-EVICT")) {
    if (argc != 3) return arity_error();
    if (EqualsIgnoreCase(ctx.args[2], "ON")) {
      ctx.client->no_evict = true;
    } else if (EqualsIgnoreCase(ctx.args[2], "OFF")) {
      ctx.client->no_evict = false;
    } else {
      ctx.reply->Error(errors::kSyntax);
      return;
    }
    ctx.reply->Ok();
  } else {
    ctx.reply->Error(errors::UnknownSubcommand("client", sub));
  }
}

CommandSpec Sub(std::string_view name, int arity, uint32_t flags, std::string_view summary) {
  return CommandSpec{name, arity, flags, 0, 0, 0, nullptr, "connection", summary, "2.4.0"};
}

}  // namespace

void RegisterConnectionFamily(CommandTable* table) {
  constexpr uint32_t kConn = kCmdFast | kCmdLoading | kCmdStale;
  table->Register({"ping", -1, kConn, 0, 0, 0, CmdPing, "connection",
                   "Returns the server's liveliness response.", "1.0.0"});
  table->Register({"echo", 2, kConn, 0, 0, 0, CmdEcho, "connection", "Returns the given string.",
                   "1.0.0"});
  table->Register({"quit", -1, kCmdNoAuth | kCmdAllowBusy | kCmdNoscript | kCmdLoading | kCmdStale |
                                   kCmdFast,
                   0, 0, 0, CmdQuit, "connection", "Closes the connection.", "1.0.0"});
  table->Register({"reset", 1, kCmdNoAuth | kCmdNoscript | kCmdLoading | kCmdStale | kCmdFast, 0,
                   0, 0, CmdReset, "connection", "Resets the connection.", "6.2.0"});
  table->Register({"select", 2, kConn, 0, 0, 0, CmdSelect, "connection",
                   "Changes the selected database.", "1.0.0"});
  table->Register({"auth", -2, kCmdNoAuth | kCmdNoscript | kCmdLoading | kCmdStale | kCmdFast |
                                   kCmdAllowBusy,
                   0, 0, 0, CmdAuth, "connection", "Authenticates the connection.", "1.0.0"});
  table->Register({"hello", -1, kCmdNoAuth | kCmdNoscript | kCmdLoading | kCmdStale | kCmdFast |
                                    kCmdAllowBusy,
                   0, 0, 0, CmdHello, "connection", "Handshakes with the Redis server.", "6.0.0"});
  table->Register({"client", -2, kCmdNoscript | kCmdLoading | kCmdStale, 0, 0, 0, CmdClient,
                   "connection", "A container for client connection commands.", "2.4.0",
                   {
                       Sub("client|id", 2, kConn, "Returns the unique client ID of the connection."),
                       Sub("client|info", 2, kConn, "Returns information about the connection."),
                       Sub("client|getname", 2, kConn, "Returns the name of the connection."),
                       Sub("client|setname", 3, kConn, "Sets the connection name."),
                       Sub("client|setinfo", 4, kConn, "Sets information specific to the client."),
                       Sub("client|list", -2, kCmdAdmin | kCmdNoscript | kCmdLoading | kCmdStale,
                           "Lists open connections."),
                       Sub("client|kill", -3, kCmdAdmin | kCmdNoscript | kCmdLoading | kCmdStale,
                           "Terminates open connections."),
                       Sub("client|reply", 3, kConn, "Instructs the server whether to reply to commands."),
                       Sub("client|no-evict", 3, kCmdAdmin | kConn,
                           "Sets the client eviction mode of the connection."),
                       Sub("client|help", 2, kConn, "Returns helpful text about the different subcommands."),
                   }});
}

}  // namespace ringkv::server
