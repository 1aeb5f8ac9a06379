// RedisReply: an owned copy of a hiredis reply tree, so replies outlive the
// connection they came from and callers never touch hiredis types.
//
// Thread-safety: a plain value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace plancache::internal {

struct RedisReply {
  enum class Type { kNil, kString, kStatus, kError, kInteger, kArray };
  Type type = Type::kNil;
  std::string str;       // kString, kStatus, kError
  int64_t integer = 0;   // kInteger
  std::vector<RedisReply> elements;  // kArray

  bool is_nil() const { return type == Type::kNil; }
  bool is_error() const { return type == Type::kError; }
  bool is_string() const { return type == Type::kString; }
  // A status reply equal to `s` (e.g. "OK").
  bool is_status(const char* s) const { return type == Type::kStatus && str == s; }
};

}  // namespace plancache::internal
