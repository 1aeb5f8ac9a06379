// Status and Result<T>: how every plancache call reports failure.
//
// No exception crosses a component boundary; a call that can fail returns a
// Status (or a Result<T>, which holds either a T or a non-OK Status). Codes
// follow absl/status/status.h; src/server/errors.cc maps them to HTTP statuses
// and src/cli maps them to exit codes (invalid_argument -> 400 / exit 2, ...).
//
// Thread-safety: values; safe to copy between threads.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace plancache {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // bad input from the caller: HTTP 400, CLI exit 2
  kNotFound,            // HTTP 404
  kFailedPrecondition,  // HTTP 409
  kResourceExhausted,   // too large / too many: HTTP 413 or 429
  kUnavailable,         // a dependency is down: HTTP 503 (or degrade)
  kDeadlineExceeded,    // HTTP 504
  kDataLoss,            // corrupt stored data (bad checksum, truncation)
  kUnauthenticated,     // HTTP 401
  kPermissionDenied,    // HTTP 403
  kBadGateway,          // the upstream planner failed: HTTP 502
  kInternal,            // a bug: HTTP 500
};

// Stable snake_case name of a code ("invalid_argument"); used in the JSON
// error shape {"error":{"code","message"}}.
std::string_view status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }
  static Status invalid_argument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status not_found(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status failed_precondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
  static Status resource_exhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
  static Status unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status deadline_exceeded(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
  static Status data_loss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
  static Status unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
  static Status permission_denied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
  static Status bad_gateway(std::string m) { return {StatusCode::kBadGateway, std::move(m)}; }
  static Status internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid_argument: goal must be a string"; "ok" when OK.
  std::string to_string() const;

  bool operator==(const Status&) const = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Either a T or a non-OK Status. REQUIRES: a Status given to the constructor is
// not OK (an OK status carries no value; that is a bug, caught by an assert
// and turned into kInternal in release builds).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : data_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(data_).is_ok());
    if (std::get<Status>(data_).is_ok()) {
      data_ = Status::internal("Result constructed from an OK status");
    }
  }

  bool is_ok() const { return std::holds_alternative<T>(data_); }
  // No conversion to bool: `if (auto r = tier->erase(k))` would read as
  // "erased" but mean "no error". Say is_ok(), or test the value (*r).
  explicit operator bool() const = delete;

  // REQUIRES: is_ok().
  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // OK when a value is held. The reference lives as long as this Result.
  const Status& status() const {
    static const Status kOk;
    return is_ok() ? kOk : std::get<Status>(data_);
  }

 private:
  std::variant<T, Status> data_;
};

}  // namespace plancache

// Propagates a non-OK Status out of the enclosing function.
#define PLANCACHE_RETURN_IF_ERROR(expr)              \
  do {                                               \
    ::plancache::Status plancache_status_ = (expr);  \
    if (!plancache_status_.is_ok()) return plancache_status_; \
  } while (0)
