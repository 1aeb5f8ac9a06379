// RedisConnection: one blocking hiredis connection (private to src/redis).
//
// open() connects with the connect timeout, sets the command timeout and TCP
// keepalive, then sends AUTH and SELECT. A connection that returned a
// transport error from run() is broken (broken() == true) and must be
// dropped, never reused: hiredis 0.14 leaves a context in an unknown state
// after a timeout or I/O error.
//
// Thread-safety: none; one thread at a time (the pool hands it out).
#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "plancache/status.h"
#include "redis/redis_client.h"
#include "redis/redis_reply.h"

namespace plancache::internal {

struct RedisContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using RedisContextPtr = std::unique_ptr<redisContext, RedisContextDeleter>;

// Copies a hiredis reply tree (depth is bounded by hiredis' reader).
RedisReply convert_redis_reply(const redisReply& reply);

// The reply of AUTH / SELECT / a setup command: an error reply becomes a Status.
struct RedisAuth {
  std::string user, password;
  int db = 0;
};

class RedisConnection {
 public:
  // Errors: kUnavailable (cannot connect, timeout), kUnauthenticated (AUTH
  // refused), kInvalidArgument (SELECT refused).
  static Result<std::unique_ptr<RedisConnection>> open(const RedisEndpoint& node,
                                                       const RedisAuth& auth,
                                                       std::chrono::milliseconds connect_timeout,
                                                       std::chrono::milliseconds command_timeout);

  // Writes every command in one go, then reads one reply per command.
  // Errors: kUnavailable (I/O, timeout, protocol); the connection is then broken.
  Result<std::vector<RedisReply>> run(const std::vector<const RedisArgs*>& commands);
  Result<RedisReply> run_one(const RedisArgs& args);

  bool broken() const { return broken_; }
  redisContext* context() { return ctx_.get(); }

 private:
  RedisConnection(RedisEndpoint node, RedisContextPtr ctx)
      : node_(std::move(node)), ctx_(std::move(ctx)) {}
  Status fail(const char* what);

  RedisEndpoint node_;
  RedisContextPtr ctx_;
  bool broken_ = false;
};

// Connects a context (blocking, with timeouts and keepalive). Errors: kUnavailable.
Result<RedisContextPtr> connect_redis_context(const RedisEndpoint& node,
                                              std::chrono::milliseconds connect_timeout,
                                              std::chrono::milliseconds command_timeout);

// Whether a reply is an error starting with `word` followed by a space or the end.
bool redis_error_is(const RedisReply& reply, std::string_view word);

timeval to_timeval(std::chrono::milliseconds ms);

}  // namespace plancache::internal
