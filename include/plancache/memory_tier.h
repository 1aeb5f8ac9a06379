// The memory tier (L1): a sharded, byte- and entry-bounded in-process cache.
//
// Default eviction policy is W-TinyLFU (a small LRU admission window in front
// of a segmented-LRU main area, with a count-min frequency sketch deciding
// whether a window victim may displace a main victim), as in Caffeine; plain
// LRU and a cost-aware policy (kCost: recompute cost per byte weighed with
// frequency, and the entries' priority hints) are the options. Entries carry
// a TTL, checked lazily on get and by purge_expired(). Values are shared:
// get() returns the stored EntryPtr.
//
// Thread-safety: fully thread-safe; one mutex per shard.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "plancache/clock.h"
#include "plancache/status.h"
#include "plancache/tier.h"

namespace plancache {

enum class EvictionPolicy {
  kTinyLfu,  // W-TinyLFU (default)
  kLru,      // least recently used
  // Cost-aware: keeps what saves the most planner time per byte --
  // frequency x recompute cost (EntryMeta::compute_ms; 0 = unknown, counted
  // as the shard's typical cost) / charged bytes -- in a W-TinyLFU window
  // and admission test before a GreedyDual-Size-Frequency main area; honours
  // EntryMeta::priority (important: cost counted 8x; temporary: evicted
  // first). Design in src/tiers/memory/policy/cost.cc, measurements in
  // docs/decisions.md ("Cost-aware eviction").
  kCost,
};

struct MemoryTierOptions {
  // Upper bound on the number of entries; 0 = unbounded.
  // Default: 100,000.
  uint64_t max_entries = 100'000;
  // Upper bound on charged bytes (values + tags + keys + overhead); 0 = unbounded.
  // Both bounds are split evenly over the shards; put() refuses with
  // resource_exhausted an entry bigger than one shard's share of max_bytes.
  // Default: 256 MiB.
  uint64_t max_bytes = 256ull << 20;
  // Number of shards, rounded up to a power of two; 0 = 16 per hardware thread,
  // fewer when a shard would get under 1,024 entries or 4 MiB.
  // Default: 0.
  uint32_t shards = 0;
  // Default: kTinyLfu.
  EvictionPolicy policy = EvictionPolicy::kTinyLfu;
  // Time source for TTLs. Default: system_clock().
  std::shared_ptr<Clock> clock;
  // Told about every removal with its cause. Default: none.
  RemovalListener removal_listener;
  // Tier name in stats. Default: "l1".
  std::string name = "l1";
  // The layer this tier plays in a Cache (what lane policies pick it by):
  // a memory tier may stand in for a slower level, e.g. in tests.
  // Default: kMemory.
  TierKind kind = TierKind::kMemory;
  // Namespaces whose counters (hits, misses) are kept while they hold no
  // entries. Any other namespace has counters only while it holds entries:
  // they go with its last entry, and a miss while it is empty counts only in
  // the tier-wide misses, so names a client invents cost nothing once their
  // entries are gone. Default: none.
  std::vector<std::string> kept_namespaces;
};

// REQUIRES: nothing; invalid options (e.g. more shards than max_entries when
// bounded) are reported as invalid_argument.
Result<std::unique_ptr<Tier>> new_memory_tier(MemoryTierOptions options);

}  // namespace plancache
