// The shared tier on Redis or Redis Cluster (SPEC §2, docs/architecture.md
// "Shared tier"): several plancache instances share one Redis, see each
// other's plans and invalidations, and compute a missing plan once.
//
// Storage: one Redis string per entry, `<prefix>:e:{<hash>}:<ns>:<kind>:<id>`
// = a 36-byte header (the namespace and global invalidation views it was
// written under) + the §2 entry envelope (checksummed); TTL via PX. A value
// that fails to decode is a miss, counted in corrupt_entries.
// Coherence: a listener per master with server-assisted client-side caching
// (BCAST tracking of the prefix), guards against the read/invalidation race,
// and a flush of every shared-derived local copy when coherence is lost or
// regained (plancache/shared_tier.h). Selector invalidation: per-namespace
// (and global) generation counters and a short predicate log, no SCAN.
// Leases (SET NX PX, renewed, token-checked commit) make one instance
// compute a missing key. A breaker per node keeps a down, slow or frozen
// Redis from failing requests: the tier answers misses, and deletions and
// invalidations made meanwhile are replayed when it is back.
//
// Thread-safety: the tier is fully thread-safe. Its calls block on the
// network (bounded by the timeouts): never call it from an event loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "plancache/clock.h"
#include "plancache/namespace_policy.h"
#include "plancache/status.h"
#include "plancache/tier.h"

namespace plancache {

struct RedisTierOptions {
  // redis://[user:pass@]host:port[/db]; several comma-separated seeds = a
  // Cluster. REQUIRES: set.
  std::string url;
  // Prefix of every Redis key the tier writes (and tracks). Default: "pc".
  std::string key_prefix = "pc";
  std::chrono::milliseconds connect_timeout{200};
  std::chrono::milliseconds command_timeout{250};
  size_t pool_size = 8;  // connections per node
  // A lease lives this long unless renewed (renewed every third of it while
  // its holder computes); a dead holder's lease frees the key after it.
  std::chrono::milliseconds lease_ttl{3000};
  // How long a miss waits for another instance's compute before computing
  // itself. Default: 130 s (the planner timeout plus a margin).
  std::chrono::milliseconds lease_wait{130'000};
  // How often a waiter re-checks when no invalidation message woke it.
  std::chrono::milliseconds lease_poll{25};
  // Deletions / invalidations remembered while Redis is unreachable, to
  // replay when it is back; past it, the replay invalidates everything.
  size_t max_pending_invalidations = 10'000;
  // Per-lane shared TTL (NamespacePolicy::shared) and defaults; null = none.
  std::shared_ptr<const NamespacePolicies> policies;
  std::shared_ptr<Clock> clock;  // default: system_clock()
  // Log lines: one per state change (breaker, listener, replay). May be null.
  std::function<void(std::string_view level, std::string_view message)> log;
};

// Starts connecting in the background; never fails because Redis is down.
// Errors: invalid_argument for a bad URL or option.
Result<std::unique_ptr<Tier>> new_redis_tier(RedisTierOptions options);

}  // namespace plancache
