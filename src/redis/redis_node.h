// RedisNode: the connection pool and the breaker of one Redis node (private
// to src/redis; the client owns one per node it knows).
//
// Pool: at most pool_size connections (idle + in use); a caller waits for a
// free one until its deadline, else kUnavailable. Broken connections are
// dropped, never returned.
// Breaker: failures_to_open transport failures within failure_window open
// it; while open every run() fails at once without touching the network.
// The client's background thread calls probe() when next_probe() is due;
// a successful probe closes the breaker. Transitions are reported through
// the `events` sink (which must not call user code: it only queues them).
//
// Thread-safety: all methods thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "redis/redis_client.h"
#include "redis/redis_connection.h"

namespace plancache::internal {

using SteadyTime = std::chrono::steady_clock::time_point;

struct NodeEvent {
  RedisEndpoint node;
  BreakerState state;
  std::string why;
};

class RedisNode {
 public:
  using EventSink = std::function<void(NodeEvent)>;
  RedisNode(RedisEndpoint endpoint, const RedisClientOptions& options, EventSink events);
  ~RedisNode();

  const RedisEndpoint& endpoint() const { return endpoint_; }

  // Runs `commands` (one round trip) on a pooled connection.
  // Errors: kUnavailable (breaker open, no free connection by `deadline`,
  // transport); kUnauthenticated / kInvalidArgument from AUTH / SELECT.
  Result<std::vector<RedisReply>> run(const std::vector<const RedisArgs*>& commands,
                                      SteadyTime deadline);

  // connect + PING; closes the breaker on success. Call only when open().
  void probe();
  bool open() const;
  // When the next probe is due (max() when the breaker is closed).
  SteadyTime next_probe() const;

  void set_master(bool master);
  RedisNodeStats stats() const;

 private:
  Result<std::unique_ptr<RedisConnection>> acquire(SteadyTime deadline, bool* connect_failed);
  void release(std::unique_ptr<RedisConnection> conn);
  Result<std::unique_ptr<RedisConnection>> connect();
  void record_failure(const Status& status);
  std::chrono::milliseconds jittered(std::chrono::milliseconds base);
  Status open_error() const;  // REQUIRES: mu_ held

  const RedisEndpoint endpoint_;
  const RedisClientOptions& options_;
  const RedisAuth auth_;
  const EventSink events_;

  // Guards everything below (pool, breaker, counters).
  mutable std::mutex mu_;
  std::condition_variable freed_;  // a connection came back or the breaker opened
  std::vector<std::unique_ptr<RedisConnection>> idle_;
  size_t total_ = 0;  // idle + in use + being connected
  BreakerState state_ = BreakerState::kClosed;
  std::deque<SteadyTime> failures_;  // within failure_window
  std::string last_error_;
  std::chrono::milliseconds backoff_{0};
  SteadyTime next_probe_ = SteadyTime::max();
  bool master_ = true;
  uint64_t errors_ = 0, opened_ = 0, breaker_opens_ = 0;
  std::minstd_rand rng_;
};

}  // namespace plancache::internal
