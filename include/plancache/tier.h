// Tier: one storage level of the cache (memory, disk, shared Redis).
//
// The multi-tier Cache composes tiers through this interface and does not know
// which they are; a tier factory returns Result<std::unique_ptr<Tier>>, as
// RocksDB's secondary_cache.h does. A tier never calls back into the Cache.
//
// Thread-safety: every method may be called concurrently from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plancache/entry.h"
#include "plancache/status.h"

namespace plancache {

class SharedCoordination;  // plancache/shared_tier.h

// Which entries an invalidation removes. Every field that is set must match
// (they are ANDed); a Selector with nothing set matches every entry.
struct Selector {
  std::optional<std::string> ns;       // exact namespace
  std::optional<std::string> tag;      // the entry carries this tag
  std::optional<std::string> prefix;   // kUser id starts with this
  std::optional<std::string> pattern;  // kUser id matches this glob (* ? [..])
  std::optional<int64_t> created_before_ms;  // created strictly before this wall time

  bool empty() const { return !ns && !tag && !prefix && !pattern && !created_before_ms; }
};

// The layer a tier is: what a lane's policy names when it picks its tiers
// ("l1", "l2", "shared" in the config and the HTTP answers).
enum class TierKind : uint8_t { kMemory, kDisk, kShared };

inline constexpr TierKind kAllTierKinds[] = {TierKind::kMemory, TierKind::kDisk, TierKind::kShared};

// "l1", "l2", "shared": static storage, safe to keep anywhere.
constexpr std::string_view tier_kind_name(TierKind kind) {
  switch (kind) {
    case TierKind::kMemory:
      return "l1";
    case TierKind::kDisk:
      return "l2";
    case TierKind::kShared:
      return "shared";
  }
  return "?";
}

// Parses "l1", "l2" or "shared". Errors: invalid_argument naming the three.
Result<TierKind> parse_tier_kind(std::string_view name);

// The shared tier's own figures (TierStats::shared; zero for local tiers).
struct SharedTierCounters {
  // "closed" when every node's breaker is closed, else "open" (some node
  // is failing fast); "" for local tiers.
  std::string breaker;
  // "connected", "connecting", "unreachable (breaker open)" or
  // "invalidation listener not subscribed"; "" for local tiers.
  std::string state;
  uint64_t nodes = 0, nodes_open = 0;          // masters known / breakers open
  uint64_t listeners = 0, listeners_up = 0;    // invalidation listeners / subscribed
  uint64_t invalidations_received = 0;  // keys other writers invalidated, seen here
  uint64_t flushes_received = 0;        // flushes (FLUSHALL, coherence lost / regained)
  uint64_t breaker_opens = 0;
  uint64_t reconnects = 0;              // connections (and listeners) re-opened
  uint64_t leases_acquired = 0;         // computes this instance ran under a lease
  uint64_t lease_waits = 0;             // misses that waited for another instance
  uint64_t lease_found = 0;             // ... and got its value
  uint64_t lease_timeouts = 0;          // ... and gave up waiting (computed anyway)
  uint64_t lease_lost = 0;              // commits refused: lease lost or key invalidated
  uint64_t pending_invalidations = 0;   // deletions / invalidations waiting for Redis
  uint64_t replayed_invalidations = 0;  // ... replayed once it was back
};

// Counters for one namespace within one tier.
struct NamespaceCounters {
  uint64_t entries = 0;
  uint64_t bytes = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;  // removed for size (TierStats::evictions, this namespace's share)
};

struct TierStats {
  std::string name;        // "l1", "l2", "shared"
  TierKind kind = TierKind::kMemory;  // set by the Cache from Tier::kind()
  bool connected = true;   // false while an external tier is unreachable, or
                           // while the tier is degraded (below)
  // Why the tier cannot take writes now ("" = it can): e.g. the disk tier
  // read-only after a write error until it resumes by itself.
  std::string degraded;
  uint64_t entries = 0;
  uint64_t bytes = 0;      // charged bytes (see Entry::charge) incl. keys
  uint64_t max_entries = 0;  // 0 = unbounded
  uint64_t max_bytes = 0;    // 0 = unbounded
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t puts = 0;
  uint64_t evictions = 0;    // removed for size
  uint64_t expirations = 0;  // removed because the TTL ran out
  uint64_t invalidations = 0;  // removed by invalidate / clear / evict
  uint64_t errors = 0;
  uint64_t corrupt_entries = 0;  // failed their checksum on read; deleted (disk tier)
  // Entries that recovery from a damaged write-ahead log dropped when the
  // tier opened (at least this many; disk tier).
  uint64_t recovery_dropped_entries = 0;
  // Write-behind mode (a tier wrapped by the write-behind decorator; 0 otherwise):
  uint64_t pending_writes = 0;     // puts accepted but not yet written to the tier
  uint64_t write_behind_full = 0;  // puts written synchronously because the queue was full
  std::map<std::string, NamespaceCounters> namespaces;
  SharedTierCounters shared;  // the shared tier only

  double hit_rate() const {
    const uint64_t total = hits + misses;
    return total == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(total);
  }
};

// One row of Tier::list(): an entry's key and metadata, without its value.
struct ListedEntry {
  CacheKey key;
  int64_t created_ms = 0;
  int64_t expires_ms = 0;    // 0 = never expires
  uint64_t value_bytes = 0;  // size of the stored value (uncompressed)
  std::vector<std::string> tags;
};

class Tier {
 public:
  virtual ~Tier() = default;

  // The layer this tier is; a lane's policy picks its tiers by it.
  virtual TierKind kind() const = 0;

  // Name in stats and logs; usually tier_kind_name(kind()).
  virtual std::string_view name() const = 0;

  // The live entry for `key`, or nullptr on a miss. An expired entry is a
  // miss (and is removed). A non-OK status means the tier itself failed
  // (e.g. Redis unreachable), not that the key is absent.
  virtual Result<EntryPtr> get(const CacheKey& key) = 0;

  // Stores `entry` under `key`, replacing any previous one.
  // REQUIRES: entry != nullptr && entry->value != nullptr.
  virtual Status put(const CacheKey& key, EntryPtr entry) = 0;

  // Removes `key`; true when an entry was there.
  virtual Result<bool> erase(const CacheKey& key) = 0;

  // Removes every entry matching `selector`; returns how many (an estimate
  // for tiers that cannot count exactly, e.g. a shared tier).
  virtual Result<uint64_t> invalidate(const Selector& selector) = 0;

  // Evicts about `fraction` (0..1] of the entries of every namespace, the
  // ones the policy values least first. Tiers that cannot do this return 0.
  virtual Result<uint64_t> evict_fraction(double fraction) {
    (void)fraction;
    return uint64_t{0};
  }

  // Removes entries whose TTL has run out; returns how many. Tiers expire
  // lazily on get; the server calls this periodically to free memory.
  virtual uint64_t purge_expired() { return 0; }

  // Auto-sizing under memory pressure: bounds the bytes the tier keeps to
  // `max_bytes` until called again; 0 lifts the limit (the configured bound
  // alone). What no longer fits is evicted at once, in the tier's own
  // eviction order (least valuable first; cause kSize), and later puts keep
  // to the limit the same way. The configured bound -- and with it what
  // put() refuses as too large -- does not change. Returns how many entries
  // were evicted. Tiers that cannot do this ignore it (the default).
  virtual uint64_t limit_bytes(uint64_t max_bytes) {
    (void)max_bytes;
    return 0;
  }

  virtual TierStats stats() const = 0;

  // Coherence guards and leases, for a tier shared by several instances
  // (plancache/shared_tier.h); null for a tier only this process uses.
  virtual SharedCoordination* coordination() { return nullptr; }

  // The live (unexpired) entries matching `selector`, ordered by
  // CacheKey::encoded() (so by namespace, then plans before user keys, then
  // id), at most `limit` of them: the first `limit` in that order. Read-only:
  // never removes what it meets. Errors: invalid_argument for a malformed
  // selector; failed_precondition from tiers that cannot list (the default).
  virtual Result<std::vector<ListedEntry>> list(const Selector& selector, size_t limit) {
    (void)selector;
    (void)limit;
    return Status::failed_precondition("tier '" + std::string(name()) +
                                       "' cannot list its entries");
  }
};

// Called after an entry left a tier (never while a tier lock is held). Must
// be thread-safe and must not call back into the same tier.
using RemovalListener =
    std::function<void(const CacheKey& key, const EntryPtr& entry, RemovalCause cause)>;

}  // namespace plancache
