// Argument syntax and complexity of the commands ringkv implements, for
// COMMAND DOCS (redis-cli builds its interactive hints from it). Kept apart
// from CommandSpec so families only register behaviour.
#pragma once

#include <string_view>

namespace ringkv::server {

struct CommandDoc {
  std::string_view name;        // "set", or "client|kill" for a subcommand
  std::string_view arguments;   // Redis's syntax line, e.g. "key value [NX|XX]"
  std::string_view complexity;
};

// nullptr when the command has no entry (COMMAND DOCS then omits "arguments").
const CommandDoc* FindCommandDoc(std::string_view name);

}  // namespace ringkv::server
