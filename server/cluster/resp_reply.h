// Small readers for RESP replies produced by this server, used to combine
// the per-shard parts of a split command (cluster_router.cc).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace ringkv::server::cluster {

// ":<n>\r\n" -> n.
bool ParseIntegerReply(std::string_view reply, int64_t* value);
// An array reply ("*n\r\n" + n items) -> the encoded bytes of each item.
// Items may be bulk strings, nulls (RESP2 "$-1", RESP3 "_"), integers, simple
// strings or errors; nested aggregates are not supported (not needed).
bool SplitArrayReply(std::string_view reply, std::vector<std::string_view>* items);
// A SCAN reply ("*2\r\n", the cursor as a bulk string, an array of keys) ->
// the cursor's text and the encoded bytes of each key (SplitArrayReply).
bool SplitScanReply(std::string_view reply, std::string_view* cursor,
                    std::vector<std::string_view>* keys);

}  // namespace ringkv::server::cluster
