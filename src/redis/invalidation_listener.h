// InvalidationListeners: server-assisted client-side caching over RESP2,
// one listener connection per master (docs/decisions.md, "Coherence").
//
// Each listener connection: CLIENT ID -> own id; CLIENT TRACKING on
// REDIRECT <own id> BCAST PREFIX p1 PREFIX p2 ...; SUBSCRIBE
// __redis__:invalidate. From then on every write (or expiry, eviction,
// DEL by anyone) of a key under a prefix on that master sends one message
// with the invalidated key names; FLUSHALL / FLUSHDB send a nil (flush).
// A heartbeat PING every heartbeat_interval must see its pong within
// heartbeat_timeout; otherwise, or on any connection error (the server
// closed it, CLIENT KILL TYPE pubsub, a frozen or restarted server), the
// listener is lost: on_state(node, false) at once, then it reconnects with
// jittered backoff (reconnect_backoff_min .. reconnect_backoff_max) and calls
// on_state(node, true) once subscribed again. A RESP2 client is told
// nothing when its tracking state is gone, so the caller must treat "lost"
// as "every key may have changed" (flush) -- the listener only detects it.
//
// In a cluster the set of listeners follows RedisClient::masters() (checked
// at every heartbeat against topology_version()): a new master gets a
// listener, a listener of a node that is no longer a master is stopped
// (on_state(node, false) first).
//
// Callbacks run on the listener threads, one thread per master, never with
// a listener lock held; they must not block for long.
//
// Ownership: keeps a reference to the client (for masters(), auth and
// timeouts), which must outlive it; owns its threads and connections; the
// destructor (or stop()) ends them. Thread-safety: all methods thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "redis/redis_client.h"

namespace plancache::internal {

struct ListenerCallbacks {
  // Keys invalidated on `node` (names as stored in Redis).
  std::function<void(const RedisEndpoint& node, const std::vector<std::string>& keys)> on_keys;
  // A flush (FLUSHALL / FLUSHDB) on `node`.
  std::function<void(const RedisEndpoint& node)> on_flush;
  // Subscribed (true) or lost (false); once per transition per node.
  std::function<void(const RedisEndpoint& node, bool up)> on_state;
};

struct ListenerOptions {
  std::vector<std::string> prefixes;  // BCAST PREFIX ...; REQUIRES: not empty
  std::chrono::milliseconds heartbeat_interval{200};
  std::chrono::milliseconds heartbeat_timeout{500};
  std::chrono::milliseconds reconnect_backoff_min{25};
  std::chrono::milliseconds reconnect_backoff_max{400};
};

struct ListenerStats {
  size_t listeners = 0;     // masters with a listener thread
  size_t up = 0;            // of which subscribed now
  uint64_t messages = 0;    // invalidation messages received (a flush counts one)
  uint64_t keys = 0;        // keys named in them
  uint64_t flushes = 0;
  uint64_t losses = 0;      // up -> lost transitions
  uint64_t resubscribes = 0;  // lost -> up transitions
};

class InvalidationListeners {
 public:
  virtual ~InvalidationListeners() = default;
  // Whether every master has a subscribed listener now.
  virtual bool all_up() const = 0;
  virtual ListenerStats stats() const = 0;
  virtual void stop() = 0;
};

// Starts the listeners (they connect in the background; on_state(node,true)
// says when each is subscribed). Errors: invalid_argument for empty prefixes.
Result<std::unique_ptr<InvalidationListeners>> start_invalidation_listeners(
    RedisClient& client, ListenerOptions options, ListenerCallbacks callbacks);

}  // namespace plancache::internal
