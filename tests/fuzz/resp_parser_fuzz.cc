// libFuzzer target for the RESP request parser: the input is split into
// chunks (sizes taken from the input itself) and fed as a connection would,
// checking the parser's invariants after every call.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "server/resp/resp_parser.h"

using ringkv::server::RespLimits;
using ringkv::server::RespParser;

namespace {

void Check(bool cond) {
  if (!cond) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // Byte 0 picks the split step and the limits, so the fuzzer explores both.
  size_t step = 1 + data[0] % 16;
  RespLimits limits;
  limits.max_inline_len = (data[0] & 0x80) ? 64 * 1024 : 32;
  limits.max_bulk_len = (data[0] & 0x40) ? 512ll << 20 : 16;
  RespParser parser(limits);
  parser.set_auth_required((data[0] & 0x20) != 0);
  const char* in = reinterpret_cast<const char*>(data + 1);
  size_t len = size - 1;
  std::string buf;
  size_t fed = 0;
  int commands = 0;
  while (fed < len) {
    size_t n = std::min(step, len - fed);
    buf.append(in + fed, n);
    fed += n;
    while (!buf.empty()) {
      size_t consumed = 0;
      RespParser::Status st = parser.Parse(buf.data(), buf.size(), &consumed);
      if (st == RespParser::Status::kError) {
        Check(parser.error().rfind("Protocol error: ", 0) == 0);
        return 0;
      }
      if (st == RespParser::Status::kIncomplete) {
        Check(consumed == 0);
        break;
      }
      Check(consumed > 0 && consumed <= buf.size());
      if (buf[0] == '*') {
        // Multibulk arguments are views into the consumed bytes, in order.
        const char* prev_end = buf.data();
        for (auto a : parser.args()) {
          Check(a.data() >= prev_end && a.data() + a.size() <= buf.data() + consumed);
          prev_end = a.data() + a.size();
        }
      }
      ++commands;
      buf.erase(0, consumed);
    }
  }
  // Inline splitting on the raw input as a second target.
  std::vector<std::string> out;
  ringkv::server::SplitInlineArgs(std::string_view(in, len), &out);
  (void)commands;
  return 0;
}
