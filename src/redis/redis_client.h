// RedisClient: blocking access to one Redis or one Redis Cluster, for the
// shared tier. Built on hiredis 0.14 (RESP2, blocking API).
//
// - A bounded pool of connections per node (pool_size); a caller waits at
//   most command_timeout for a free one. Every connection has a connect and
//   a command timeout; a connection that saw any error (I/O, timeout,
//   protocol) is closed, never reused. SIGPIPE is ignored process-wide.
// - AUTH (password, or ACL user + password) and SELECT db on every new
//   connection.
// - Cluster: the slot map comes from CLUSTER SLOTS (any reachable seed or
//   known node); keys are routed by CRC16 of their hash tag (slot_of);
//   MOVED updates the map (and schedules a throttled full refresh), ASK
//   retries once on the named node after ASKING, TRYAGAIN and CLUSTERDOWN
//   are retried with a short backoff within the command's deadline.
// - A breaker per node: `failures_to_open` failures within `failure_window`
//   open it; while open, commands to that node fail at once (kUnavailable,
//   no network); a probe (connect + PING) runs on a background thread with
//   jittered exponential backoff from probe_backoff_min up to
//   probe_backoff_max, and closes the breaker when it succeeds.
//   on_node_state is called once per state change (open / closed).
//
// Errors from calls: kUnavailable for an unreachable / failing / frozen node
// or an open breaker (the message names the node); a Redis error reply is
// NOT a failed call: it comes back as RedisReply::Type::kError.
//
// Ownership: owns its connections and its probe thread; the destructor
// closes them. Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plancache/status.h"
#include "redis/redis_reply.h"
#include "redis/redis_url.h"

namespace plancache::internal {

using RedisArgs = std::vector<std::string>;

// CRC16 (XMODEM) of the key's hash tag ({...}, Redis Cluster spec) mod 16384.
uint16_t redis_slot_of(std::string_view key);

enum class BreakerState { kClosed, kOpen };

struct RedisClientOptions {
  RedisUrl url;
  std::chrono::milliseconds connect_timeout{200};
  std::chrono::milliseconds command_timeout{250};
  size_t pool_size = 8;  // connections per node
  unsigned failures_to_open = 3;
  std::chrono::milliseconds failure_window{500};
  std::chrono::milliseconds probe_backoff_min{25};
  std::chrono::milliseconds probe_backoff_max{400};  // jitter adds up to 25 %
  // Cluster: at most one full slot-map refresh per this interval.
  std::chrono::milliseconds topology_refresh_min{100};
  // Called on a client thread (never with a client lock held).
  std::function<void(const RedisEndpoint& node, BreakerState state, const std::string& why)>
      on_node_state;
  // Log lines (level "info" / "warn"), e.g. a topology change. May be null.
  std::function<void(std::string_view level, std::string_view message)> log;
};

struct RedisNodeStats {
  RedisEndpoint node;
  bool master = true;
  BreakerState breaker = BreakerState::kClosed;
  uint64_t errors = 0;          // failed calls (transport, timeout) on this node
  uint64_t reconnects = 0;      // connections opened after the first
  uint64_t breaker_opens = 0;
  size_t idle_connections = 0;
};

struct RedisClientStats {
  bool cluster = false;
  std::vector<RedisNodeStats> nodes;
  uint64_t moved = 0, ask = 0, tryagain = 0, clusterdown = 0;
  uint64_t topology_refreshes = 0;
};

class RedisClient {
 public:
  virtual ~RedisClient() = default;

  // One command, routed by `routing_key` (its slot in a cluster; ignored
  // for a standalone server).
  virtual Result<RedisReply> command(std::string_view routing_key, const RedisArgs& args) = 0;

  // Several commands whose keys all share `routing_key`'s slot, written in
  // one round trip; one reply per command, in order. A MOVED / ASK on any
  // reply redirects the whole pipeline (the commands must be idempotent or
  // guarded, e.g. scripts that check a token).
  virtual Result<std::vector<RedisReply>> pipeline(std::string_view routing_key,
                                                   const std::vector<RedisArgs>& commands) = 0;

  // One command on a given node (e.g. a SCAN per master).
  virtual Result<RedisReply> command_on(const RedisEndpoint& node, const RedisArgs& args) = 0;

  // The masters now known (standalone: the one server). Cluster: from the
  // last slot map; empty before the first successful CLUSTER SLOTS.
  virtual std::vector<RedisEndpoint> masters() const = 0;
  // Bumped whenever masters() changes (listeners follow it).
  virtual uint64_t topology_version() const = 0;
  virtual bool is_cluster() const = 0;
  // true when every known master's breaker is closed (and at least one is known).
  virtual bool connected() const = 0;

  virtual RedisClientStats stats() const = 0;

  // The options the client was made with (the listener reuses auth and timeouts).
  virtual const RedisClientOptions& options() const = 0;
};

// Never fails because Redis is down (the breaker starts closed and opens on
// the first failed calls); connects lazily. Errors: invalid_argument for
// options that cannot work (no seeds, pool_size 0, zero timeouts).
Result<std::unique_ptr<RedisClient>> new_redis_client(RedisClientOptions options);

}  // namespace plancache::internal
