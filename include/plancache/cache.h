// Cache: the multi-tier plan cache (SPEC §3 Library).
//
// Composes an ordered list of tiers, fastest first (memory, then disk, then
// shared). get() looks in each tier in order; a hit in a lower tier is
// promoted (written) into every tier above it. put() writes through all tiers.
// A tier that fails is counted and skipped: the cache degrades, it does not
// fail a read because Redis is down.
//
// With a shared tier (Tier::coordination(), plancache/shared_tier.h) the
// cache keeps its local copies coherent with it: promotions and puts run
// under the shared tier's guards, other instances' invalidations drop the
// local copies, and get_or_compute() computes a key once across instances
// under the shared tier's lease. A put the shared tier cannot take (Redis
// down) is kept locally and still succeeds.
//
// get_or_compute() is read-through with single-flight: however many threads
// ask for the same missing key at once, the compute function runs once and
// every caller gets its result; if it fails, every waiter gets the error and
// nothing is cached. The compute function runs without any cache lock held.
//
// Thread-safety: fully thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plancache/clock.h"
#include "plancache/entry.h"
#include "plancache/namespace_policy.h"
#include "plancache/shared_tier.h"
#include "plancache/status.h"
#include "plancache/tier.h"

namespace plancache {

struct PutOptions {
  // Time to live; nullopt = the cache's default_ttl_ms; 0 = never expires.
  std::optional<int64_t> ttl_ms;
  // Tags for invalidation by tag. Default: none.
  std::vector<std::string> tags;
  // How long the planner took; 0 when unknown.
  uint32_t compute_ms = 0;
  // Keep the entry this long past its TTL, stale: only get() with
  // GetOptions::allow_stale sees it then (stale-while-revalidate,
  // stale-if-error). Ignored for entries without a TTL. Default: 0.
  int64_t stale_grace_ms = 0;
  // Eviction hint stored with the entry (EntryMeta::priority); only a memory
  // tier with EvictionPolicy::kCost acts on it. Default: kNormal.
  EntryPriority priority = EntryPriority::kNormal;
};

struct GetOptions {
  // Also return an entry past its TTL but within its stale grace period
  // (Lookup::stale is then true). Default: false (such an entry is a miss).
  bool allow_stale = false;
  // Ask only the tiers of this process, not a shared tier (which blocks on
  // the network): for callers that must not block, e.g. an event loop.
  // Lookup::shared_unasked then says whether a full get() could still find
  // the key. Default: false.
  bool local_only = false;
};

struct CacheOptions {
  // Tiers, fastest first. REQUIRES: at least one, none null.
  std::vector<std::unique_ptr<Tier>> tiers;
  // TTL for puts that do not give one; 0 = never expires. Default: 1 hour.
  int64_t default_ttl_ms = 3'600'000;
  // Default: system_clock().
  std::shared_ptr<Clock> clock;
  // Per-namespace rules: which tiers a namespace uses (by Tier::kind()),
  // its default TTL (overrides default_ttl_ms) and its min compute time.
  // Default: null = every tier, default_ttl_ms, no minimum.
  std::shared_ptr<const NamespacePolicies> policies;
  // Largest value stored, whoever made it: put() and get_or_compute() fail
  // with resource_exhausted above it (nothing is stored). 0 = no bound.
  // Default: 0.
  uint64_t max_value_bytes = 0;
};

// The answer to a lookup. `entry` is null on a miss.
struct Lookup {
  EntryPtr entry;
  // tier_kind_name() of the tier that answered ("l1", ...; static storage);
  // "" on a miss.
  std::string_view tier;
  bool stale = false;     // past its TTL, in its grace period (GetOptions::allow_stale)
  // A local_only miss for a key whose lane uses a shared tier: ask again
  // without local_only (off the event loop) to know.
  bool shared_unasked = false;
  bool hit() const { return entry != nullptr; }
};

// What a compute function hands back to get_or_compute.
struct Computed {
  BytesPtr value;      // REQUIRES: not null
  PutOptions options;  // compute_ms 0 = measured by the cache
  bool store = true;   // false: return it but do not cache it (e.g. too cheap)
  // How the value was made, for the callers of this compute only (never
  // stored): the server's engine hands it to every caller of the flight
  // (e.g. the JSON members of an incremental plan's answer). Default: "".
  std::string note{};
};

using ComputeFn = std::function<Result<Computed>()>;

struct ReadThrough {
  EntryPtr entry;
  bool cached = false;    // true: served from a tier, no compute ran for it
  std::string_view tier;  // the tier that answered when cached (as Lookup::tier)
  bool coalesced = false; // true: waited for another caller's compute
};

// Durations of Cache::get. The percentiles are the upper bounds of the
// histogram buckets they fall in (~12 % relative error), never above max_us.
struct LatencySummary {
  uint64_t count = 0;
  double sum_us = 0;  // of all `count` durations
  double p50_us = 0;
  double p99_us = 0;
  double max_us = 0;
};

struct CacheStats {
  std::vector<TierStats> tiers;  // in tier order
  uint64_t gets = 0;
  uint64_t hits = 0;          // answered by some tier
  uint64_t misses = 0;        // no tier had it
  uint64_t promotions = 0;    // lower-tier hits copied upward
  uint64_t computes = 0;      // compute functions run
  uint64_t compute_errors = 0;
  uint64_t coalesced = 0;     // callers that shared another's compute
  uint64_t inflight = 0;      // computes running now
  uint64_t waiting = 0;       // callers waiting on a running compute now
  // Planner time the hits saved: the sum of every hit's Entry compute_ms.
  uint64_t compute_ms_saved = 0;
  LatencySummary get_latency;
  double hit_rate() const {
    return gets == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(gets);
  }
};

class Cache {
 public:
  virtual ~Cache() = default;

  // A fresh entry, or a miss. Stale entries count as misses.
  Lookup get(const CacheKey& key) { return get(key, GetOptions{}); }
  virtual Lookup get(const CacheKey& key, const GetOptions& options) = 0;

  // Writes through every tier. Returns the first tier error, after trying all.
  // REQUIRES: value != nullptr.
  virtual Status put(const CacheKey& key, BytesPtr value, const PutOptions& options) = 0;

  // Read-through with single-flight (see the header comment).
  virtual Result<ReadThrough> get_or_compute(const CacheKey& key, const ComputeFn& compute) = 0;

  // Single-flight across instances for callers that compute themselves:
  // takes the shared tier's lease for `key`, or waits (bounded) for the
  // instance that holds it and returns its value (kFound; copied into the
  // local tiers). kNone without a shared tier for the key's lane, or while
  // it is unreachable; kTimedOut after the wait bound (compute anyway).
  virtual SharedLease acquire_lease(const CacheKey& key) {
    (void)key;
    return {};
  }
  // Stores `entry` under a lease from acquire_lease: in the shared tier only
  // while the lease still holds and nothing invalidated the key meanwhile,
  // then in the local tiers. Ends the lease. Errors: failed_precondition
  // when the lease was lost or the key invalidated (nothing stored); as
  // put() otherwise. A lease in another state is a plain store.
  virtual Status put_leased(const CacheKey& key, const EntryPtr& entry, SharedLease& lease) = 0;
  // Gives a held lease up without storing (the compute failed). No-op for
  // other states.
  virtual void release_lease(const CacheKey& key, SharedLease& lease) {
    (void)key;
    (void)lease;
  }

  // Removes `key` from every tier; true when any tier had it.
  virtual Result<bool> erase(const CacheKey& key) = 0;

  // Removes matching entries from every tier. Returns the largest count any
  // tier reported (an entry present in two tiers counts once).
  virtual Result<uint64_t> invalidate(const Selector& selector) = 0;

  // invalidate(Selector{}) under another name.
  virtual Result<uint64_t> clear() = 0;

  // Evicts `fraction` (0..1] of each namespace from the tiers that can.
  // Errors: invalid_argument when fraction is outside (0, 1].
  virtual Result<uint64_t> evict_fraction(double fraction) = 0;

  // Expired-entry sweep over every tier; returns how many were removed.
  virtual uint64_t purge_expired() = 0;

  // The live entries matching `selector` in every tier, one row per key (the
  // fastest tier's when several hold it), ordered by CacheKey::encoded(), at
  // most `limit` (the first ones in that order). A tier that fails or cannot
  // list is skipped, as get() skips it. Errors: invalid_argument for a
  // malformed selector; the first tier error when no tier could list.
  virtual Result<std::vector<ListedEntry>> list(const Selector& selector, size_t limit) {
    (void)selector;
    (void)limit;
    return Status::failed_precondition("this cache cannot list its entries");
  }

  virtual CacheStats stats() const = 0;

  virtual const Clock& clock() const = 0;
};

// Errors: invalid_argument when options.tiers is empty or holds a null.
Result<std::unique_ptr<Cache>> new_cache(CacheOptions options);

}  // namespace plancache
