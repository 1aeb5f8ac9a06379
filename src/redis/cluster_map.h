// The slot map of a Redis Cluster (private to src/redis): which master
// serves each of the 16384 slots, from CLUSTER SLOTS, patched by MOVED.
//
// Thread-safety: a plain value; the client swaps whole maps under its lock.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "plancache/status.h"
#include "redis/redis_reply.h"
#include "redis/redis_url.h"

namespace plancache::internal {

constexpr int kRedisSlots = 16384;

struct SlotMap {
  std::vector<RedisEndpoint> masters;      // in the order CLUSTER SLOTS named them
  std::vector<RedisEndpoint> replicas;     // known replicas (stats only)
  std::array<int16_t, kRedisSlots> owner;  // index into masters, -1 = not served

  SlotMap() { owner.fill(-1); }
  // The master serving `slot`, or null.
  const RedisEndpoint* master_of(uint16_t slot) const {
    const int16_t i = owner[slot];
    return i < 0 ? nullptr : &masters[static_cast<size_t>(i)];
  }
  // Points `slot` at `node` (adding it as a master if new).
  void assign(uint16_t slot, const RedisEndpoint& node);
};

// Parses a CLUSTER SLOTS reply; `asked` fills in an empty host (older
// servers answer "" for the node that was asked). Errors: kUnavailable for a
// reply that is not a slot map.
Result<SlotMap> parse_cluster_slots(const RedisReply& reply, const RedisEndpoint& asked);

// "host:port" (as in MOVED / ASK); an empty host becomes `asked.host`.
std::optional<RedisEndpoint> parse_redis_node(std::string_view text, const RedisEndpoint& asked);

}  // namespace plancache::internal
