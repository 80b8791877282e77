// Redis's parameterised error texts (server.c processCommand, networking.c).
#include "server/commands/errors.h"

#include "server/resp/reply_builder.h"

namespace ringkv::server::errors {

std::string WrongArity(std::string_view name) {
  std::string s = "ERR wrong number of arguments for '";
  s.append(name);
  s.append("' command");
  return s;
}

// Redis 7: "ERR unknown command '%.128s', with args beginning with: " then each
// argument as "'%.*s' " while the preview stays under 128 bytes.
std::string UnknownCommand(std::string_view name, const std::string_view* args, size_t n) {
  std::string s = "ERR unknown command '";
  s.append(name.substr(0, 128));
  s.append("', with args beginning with: ");
  size_t budget = 128;
  for (size_t i = 0; i < n && budget > 0; ++i) {
    std::string_view a = args[i].substr(0, budget);
    s.push_back('\'');
    s.append(a);
    s.append("' ");
    budget -= a.size();
  }
  return s;
}

std::string UnknownSubcommand(std::string_view cmd, std::string_view sub) {
  std::string s = "ERR unknown subcommand '";
  s.append(sub.substr(0, 128));
  s.append("'. Try ");
  for (char c : cmd) s.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c);
  s.append(" HELP.");
  return s;
}

std::string InvalidExpire(std::string_view name) {
  std::string s = "ERR invalid expire time in '";
  s.append(name);
  s.append("' command");
  return s;
}

std::string WithCode(std::string_view message) {
  size_t n = 0;
  while (n < message.size() && message[n] >= 'A' && message[n] <= 'Z') n++;
  if (n >= 2 && n < message.size() && message[n] == ' ') return std::string(message);
  return "ERR " + std::string(message);
}

void ReplyStatus(ReplyBuilder* reply, const Status& s) {
  reply->Error(s.IsInvalidArgument() ? WithCode(s.message()) : "ERR " + s.ToString());
}

}  // namespace ringkv::server::errors
