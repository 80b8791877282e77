#include "storage/base/status.h"

namespace ringkv {

std::string Status::ToString() const {
  const char* name = "OK";
  switch (code_) {
    case Code::kOk: return "OK";
    case Code::kNotFound: name = "NotFound"; break;
    case Code::kCorruption: name = "Corruption"; break;
    case Code::kNotSupported: name = "NotSupported"; break;
    case Code::kInvalidArgument: name = "InvalidArgument"; break;
    case Code::kIOError: name = "IOError"; break;
    case Code::kBusy: name = "Busy"; break;
    case Code::kOutOfRange: name = "OutOfRange"; break;
    case Code::kAborted: name = "Aborted"; break;
    case Code::kNoSpace: name = "NoSpace"; break;
  }
  std::string out(name);
  if (!msg_.empty()) {
    out += ": ";
    out += msg_;
  }
  return out;
}

}  // namespace ringkv
