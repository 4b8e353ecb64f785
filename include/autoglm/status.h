// Status and Result<T>: how every fallible operation in Open-AutoGLM reports failure.
// Input errors (bad files, bad arguments) are Status values, never exceptions or aborts.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace autoglm {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // caller passed something unusable
  kNotFound,          // file, key, tensor or token missing
  kIOError,           // the OS refused (open, mmap, read)
  kCorruptFile,       // a model or data file violates its format
  kUnsupported,       // valid but not implemented here (a dtype, an architecture)
  kOutOfRange,        // an index or size outside what is allowed
  kResourceExhausted, // out of memory, KV blocks, queue slots
  kUnavailable,       // not now: loading, draining, or the engine has failed
  kInternal,          // a bug in this program
};

const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "CorruptFile: tensor 'x' offset past end of file"
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
inline Status CorruptFile(std::string m) { return {StatusCode::kCorruptFile, std::move(m)}; }
inline Status Unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
inline Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Result<T>: a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}                 // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {           // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<Status, T> v_;
};

}  // namespace autoglm

#define AG_CONCAT_INNER(a, b) a##b
#define AG_CONCAT(a, b) AG_CONCAT_INNER(a, b)

// Return the Status from the enclosing function if expr is not OK.
#define AG_RETURN_IF_ERROR(expr)                 \
  do {                                           \
    ::autoglm::Status ag_status_ = (expr);       \
    if (!ag_status_.ok()) return ag_status_;     \
  } while (0)

// AG_ASSIGN_OR_RETURN(auto x, make_x()); returns the error Status if make_x() failed.
#define AG_ASSIGN_OR_RETURN(lhs, expr) AG_ASSIGN_OR_RETURN_IMPL(AG_CONCAT(ag_result_, __LINE__), lhs, expr)
#define AG_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
