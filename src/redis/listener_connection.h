// ListenerConnection: a non-blocking hiredis connection read with poll()
// (private to src/redis). A blocking read with a timeout leaves a hiredis
// 0.14 context unusable, and a listener must also notice stop() at once, so
// every wait here polls the socket together with a stop fd.
//
// Thread-safety: none; owned by one listener thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "redis/redis_connection.h"

namespace plancache::internal {

class ListenerConnection {
 public:
  using Clock = std::chrono::steady_clock;

  // Connects (non-blocking, within `timeout`). Errors: kUnavailable; kCancelled
  // is reported as kUnavailable with "stopped" when stop_fd became readable.
  static Result<std::unique_ptr<ListenerConnection>> open(const RedisEndpoint& node,
                                                          std::chrono::milliseconds timeout,
                                                          int stop_fd);

  // Queues and flushes one command.
  Status send(const RedisArgs& args, Clock::time_point deadline);
  // The next reply, waiting until `deadline`; nullopt when the deadline
  // passed with no complete reply. Errors: kUnavailable (I/O, EOF, stop).
  Result<std::optional<RedisReply>> next_reply(Clock::time_point deadline);
  // send() then next_reply(); a missing reply by the deadline is an error.
  Result<RedisReply> call(const RedisArgs& args, std::chrono::milliseconds timeout);

  // Whether stop_fd is readable (stop() was called).
  bool stopped() const;

 private:
  ListenerConnection(RedisEndpoint node, RedisContextPtr ctx, int stop_fd)
      : node_(std::move(node)), ctx_(std::move(ctx)), stop_fd_(stop_fd) {}
  // Polls the socket for `events` and stop_fd; true when the socket is ready.
  Result<bool> wait(short events, Clock::time_point deadline);
  Status error(const std::string& what) const;

  RedisEndpoint node_;
  RedisContextPtr ctx_;
  int stop_fd_;
};

}  // namespace plancache::internal
