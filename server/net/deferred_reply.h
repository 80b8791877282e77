// Deferred replies: a command whose reply is computed elsewhere (a Raft
// commit on the replication thread, another node) takes a ReplyCallback from
// its Deferrer and returns at once; the callback later delivers the encoded
// reply. The connection keeps replies in command order regardless of the
// order in which callbacks fire.
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace ringkv::server {

// Callable from any thread, exactly once, with the complete encoded RESP
// reply. Dropping it without calling it leaves the client waiting, so every
// path that owns one must end in a call (errors included).
using ReplyCallback = std::function<void(std::string reply)>;

class Deferrer {
 public:
  virtual ~Deferrer() = default;
  // Reserves the reply slot of the command being dispatched. `is_write`
  // tells the connection whether later writes may be dispatched before this
  // reply arrives (writes to Raft groups are ordered by their logs; a read
  // must wait for every earlier command's reply).
  virtual ReplyCallback Defer(bool is_write) = 0;
  // Expires when the client goes away, so work done for a command that may
  // wait indefinitely (WAIT 1 0) can stop. Empty (never alive) where nobody
  // tracks it.
  virtual std::weak_ptr<void> Liveness() const { return {}; }
};

}  // namespace ringkv::server
