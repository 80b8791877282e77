// Status and Result<T>: how every module in ringkv reports an operating error.
//
// A Status is a code plus a human-readable message. Operating errors (bad input,
// a missing key, a full disk, a corrupt file, an unreachable peer) travel as a
// Status; programmer errors (a broken invariant) hit RINGKV_CHECK and crash.
// No exception crosses a module boundary. Thread-compatible: a Status is a value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "storage/base/check.h"

namespace ringkv {

class [[nodiscard]] Status {
 public:
  enum class Code : uint8_t {
    kOk = 0,
    kNotFound,
    kCorruption,
    kNotSupported,
    kInvalidArgument,
    kIOError,
    kBusy,
    kOutOfRange,
    kAborted,
    kNoSpace,
  };

  Status() = default;

  static Status OK() { return Status(); }
  static Status NotFound(std::string_view msg = {}) { return Status(Code::kNotFound, msg); }
  static Status Corruption(std::string_view msg) { return Status(Code::kCorruption, msg); }
  static Status NotSupported(std::string_view msg) { return Status(Code::kNotSupported, msg); }
  static Status InvalidArgument(std::string_view msg) {
    return Status(Code::kInvalidArgument, msg);
  }
  static Status IOError(std::string_view msg) { return Status(Code::kIOError, msg); }
  static Status Busy(std::string_view msg) { return Status(Code::kBusy, msg); }
  static Status OutOfRange(std::string_view msg) { return Status(Code::kOutOfRange, msg); }
  static Status Aborted(std::string_view msg) { return Status(Code::kAborted, msg); }
  static Status NoSpace(std::string_view msg) { return Status(Code::kNoSpace, msg); }

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsNotSupported() const { return code_ == Code::kNotSupported; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsIOError() const { return code_ == Code::kIOError; }
  bool IsBusy() const { return code_ == Code::kBusy; }
  bool IsOutOfRange() const { return code_ == Code::kOutOfRange; }
  bool IsAborted() const { return code_ == Code::kAborted; }
  bool IsNoSpace() const { return code_ == Code::kNoSpace; }

  Code code() const { return code_; }
  const std::string& message() const { return msg_; }

  // "OK", or "<CodeName>: <message>".
  std::string ToString() const;

  // Marks a Status as deliberately ignored.
  void IgnoreError() const {}

 private:
  Status(Code code, std::string_view msg) : code_(code), msg_(msg) {}

  Code code_ = Code::kOk;
  std::string msg_;
};

// A value or the Status that explains why there is none.
// REQUIRES: a Result is built from a non-OK Status only.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    RINGKV_CHECK(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & {
    RINGKV_CHECK(ok());
    return std::get<T>(v_);
  }
  const T& value() const& {
    RINGKV_CHECK(ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    RINGKV_CHECK(ok());
    return std::get<T>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

// Returns early from the enclosing function when `expr` yields a non-OK Status.
#define RINGKV_RETURN_IF_ERROR(expr)        \
  do {                                      \
    ::ringkv::Status _ringkv_st = (expr);   \
    if (!_ringkv_st.ok()) return _ringkv_st; \
  } while (0)

}  // namespace ringkv
