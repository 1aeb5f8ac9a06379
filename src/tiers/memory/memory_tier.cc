// The memory tier: routing to shards, the removal listener, and the bulk
// operations that visit every shard.
//
// Sharding. 2^k shards; a key goes to shard (hash >> 32) & mask, i.e. bits of
// CacheKey::hash() that the shard's own table (low bits) does not use. The
// entry and byte budgets are split evenly (the remainder spread over the
// first shards), so the tier's bounds are the sum of the shards' and hold
// exactly. The automatic shard count is 16 per hardware thread, halved while
// a shard would get fewer than 1,024 entries or 4 MiB: small tiers get few
// shards, so that per-shard W-TinyLFU still sees enough keys (split 8 ways, a
// 1,000-entry lane lost up to 6 points of hit rate: docs/decisions.md) and an
// entry is rarely refused for being larger than one shard's byte budget.
//
// Listener. Shards return removed nodes instead of destroying them; the tier
// calls the listener for each after the shard lock is released, then frees
// them (so payloads are also freed outside the lock). A listener that throws
// is counted in stats().errors and does not stop the others.
//
// Auto-sizing (limit_bytes): a byte limit below the configured bound, split
// over the shards like the bound; each shard's policy evicts down to it at
// once and keeps to it on every put, until the limit is lifted (0).
//
// Bulk operations (invalidate, evict_fraction, purge_expired, list) lock one
// shard at a time; purge_expired holds a lock for at most kPurgeBatch
// removals. list keeps a bounded max-heap across shards (the `limit`
// smallest keys seen so far), so it allocates O(limit), not O(entries).
// Each of them but list ends by dropping the shards' records of namespaces
// left with no entry in any shard (drop_empty_namespaces), so names a client
// invents cost nothing once their entries are gone; stats() never shows
// such a namespace (unless it is kept), swept or not.
#include "tiers/memory/memory_tier_impl.h"

#include <algorithm>
#include <bit>
#include <thread>

#include "core/selector_match.h"

namespace plancache {
namespace internal {
namespace {

constexpr uint32_t kMaxShards = 1u << 16;
constexpr uint64_t kMinEntriesPerShard = 1024;
constexpr uint64_t kMinBytesPerShard = 4ull << 20;
constexpr uint64_t kPurgeBatch = 256;

uint64_t bound(uint64_t total, uint32_t shards, uint32_t index) {
  if (total == 0) return kUnbounded;
  return total / shards + (index < total % shards ? 1 : 0);
}

}  // namespace

Result<uint32_t> memory_tier_shard_count(const MemoryTierOptions& o) {
  if (o.shards == 0) {
    const uint32_t threads = std::max(1u, std::thread::hardware_concurrency());
    uint32_t n = std::bit_ceil(std::min(16 * threads, kMaxShards));
    while (n > 1 && ((o.max_entries != 0 && o.max_entries / n < kMinEntriesPerShard) ||
                     (o.max_bytes != 0 && o.max_bytes / n < kMinBytesPerShard))) {
      n /= 2;
    }
    return n;
  }
  if (o.shards > kMaxShards) {
    return Status::invalid_argument("shards must be at most " + std::to_string(kMaxShards));
  }
  const uint32_t n = std::bit_ceil(o.shards);
  if (o.max_entries != 0 && n > o.max_entries) {
    return Status::invalid_argument("shards (" + std::to_string(n) +
                                    " after rounding up to a power of two) must not exceed "
                                    "max_entries (" + std::to_string(o.max_entries) + ")");
  }
  if (o.max_bytes != 0 && n > o.max_bytes) {
    return Status::invalid_argument("shards (" + std::to_string(n) +
                                    ") must not exceed max_bytes (" +
                                    std::to_string(o.max_bytes) + ")");
  }
  return n;
}

MemoryTier::MemoryTier(MemoryTierOptions options, uint32_t shard_count,
                       const TinyLfuConfig& tinylfu)
    : options_(std::move(options)), shard_mask_(shard_count - 1) {
  shards_.reserve(shard_count);
  for (uint32_t i = 0; i < shard_count; ++i) {
    ShardConfig config;
    config.budget.max_entries = bound(options_.max_entries, shard_count, i);
    config.budget.max_bytes = bound(options_.max_bytes, shard_count, i);
    config.policy = options_.policy;
    config.tinylfu = tinylfu;
    config.tinylfu.seed = tinylfu.seed + i;
    config.kept_namespaces = options_.kept_namespaces;
    shards_.push_back(std::make_unique<Shard>(config));
  }
}

void MemoryTier::call_listener(const CacheKey& key, const EntryPtr& entry, RemovalCause cause) {
  try {
    options_.removal_listener(key, entry, cause);
  } catch (...) {
    listener_errors_.fetch_add(1, std::memory_order_relaxed);
  }
}

void MemoryTier::notify(RemovedEntries& removed) {
  if (options_.removal_listener) {
    for (const RemovedEntry& r : removed) call_listener(r.node->make_key(), r.node->entry, r.cause);
  }
  removed.clear();
}

Result<EntryPtr> MemoryTier::get(const CacheKey& key) {
  RemovedEntries removed;
  EntryPtr entry = shard_for(key.hash()).get(key, *options_.clock, &removed);
  if (!removed.empty()) notify(removed);
  return entry;
}

Status MemoryTier::put(const CacheKey& key, EntryPtr entry) {
  if (entry == nullptr || entry->value == nullptr) {
    return Status::invalid_argument("memory tier: entry and its value must not be null");
  }
  const uint64_t charge = entry->charge() + key.encoded().size();
  RemovedEntries removed;
  EntryPtr replaced;
  Status status = shard_for(key.hash())
                      .put(key, std::move(entry), charge, options_.clock->now_ms(), &replaced,
                           &removed);
  if (replaced != nullptr && options_.removal_listener) {
    call_listener(key, replaced, RemovalCause::kReplaced);
  }
  notify(removed);
  return status;
}

Result<bool> MemoryTier::erase(const CacheKey& key) {
  RemovedEntries removed;
  const bool erased = shard_for(key.hash()).erase(key, options_.clock->now_ms(), &removed);
  notify(removed);
  return erased;
}

Result<uint64_t> MemoryTier::invalidate(const Selector& selector) {
  PLANCACHE_RETURN_IF_ERROR(validate_selector(selector));
  const int64_t now = options_.clock->now_ms();
  uint64_t total = 0;
  RemovedEntries removed;
  for (const auto& shard : shards_) {
    total += shard->invalidate(selector, now, &removed);
    notify(removed);
  }
  drop_empty_namespaces();
  return total;
}

Result<uint64_t> MemoryTier::evict_fraction(double fraction) {
  if (!(fraction > 0.0 && fraction <= 1.0)) {
    return Status::invalid_argument("evict fraction must be in (0, 1], got " +
                                    std::to_string(fraction));
  }
  FractionCarry carry;
  uint64_t total = 0;
  RemovedEntries removed;
  for (const auto& shard : shards_) {
    total += shard->evict_fraction(fraction, &carry, &removed);
    notify(removed);
  }
  drop_empty_namespaces();
  return total;
}

uint64_t MemoryTier::limit_bytes(uint64_t max_bytes) {
  const auto n = static_cast<uint32_t>(shards_.size());
  uint64_t total = 0;
  RemovedEntries removed;
  for (uint32_t i = 0; i < n; ++i) {
    // bound(0) = kUnbounded: no limit. A shard's share is at least 1 byte,
    // so a limit smaller than the shard count still bounds every shard.
    const uint64_t share = std::max<uint64_t>(1, bound(max_bytes, n, i));
    total += shards_[i]->set_byte_limit(share, &removed);
    notify(removed);
  }
  if (total != 0) drop_empty_namespaces();
  return total;
}

uint64_t MemoryTier::purge_expired() {
  const int64_t now = options_.clock->now_ms();
  uint64_t total = 0;
  RemovedEntries removed;
  for (const auto& shard : shards_) {
    uint64_t n = 0;
    do {
      n = shard->purge_expired(now, kPurgeBatch, &removed);
      notify(removed);
      total += n;
    } while (n == kPurgeBatch);
  }
  drop_empty_namespaces();
  return total;
}

void MemoryTier::drop_empty_namespaces() {
  std::vector<std::string> names;
  for (const auto& shard : shards_) shard->empty_namespaces(&names);
  if (names.empty()) return;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::vector<bool> held(names.size(), false);
  for (const auto& shard : shards_) shard->mark_held(names, &held);
  size_t kept_count = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!held[i]) names[kept_count++] = std::move(names[i]);
  }
  names.resize(kept_count);
  for (const auto& shard : shards_) shard->drop_empty(names);
}

bool MemoryTier::kept(std::string_view ns) const {
  const auto& names = options_.kept_namespaces;
  return std::find(names.begin(), names.end(), ns) != names.end();
}

Result<std::vector<ListedEntry>> MemoryTier::list(const Selector& selector, size_t limit) {
  PLANCACHE_RETURN_IF_ERROR(validate_selector(selector));
  ListHeap heap;
  if (limit == 0) return heap;
  const int64_t now = options_.clock->now_ms();
  for (const auto& shard : shards_) shard->list(selector, now, limit, &heap);
  std::sort_heap(heap.begin(), heap.end(), listed_before);
  return heap;
}

TierStats MemoryTier::stats() const {
  TierStats s;
  s.name = options_.name;
  s.max_entries = options_.max_entries;
  s.max_bytes = options_.max_bytes;
  for (const auto& shard : shards_) shard->collect_stats(&s);
  // A namespace without entries in any shard has no row (unless kept),
  // whether or not a shard still holds its record.
  std::erase_if(s.namespaces,
                [&](const auto& kv) { return kv.second.entries == 0 && !kept(kv.first); });
  s.errors = listener_errors_.load(std::memory_order_relaxed);
  return s;
}

uint64_t MemoryTier::nodes_scanned() const {
  uint64_t total = 0;
  for (const auto& shard : shards_) total += shard->nodes_scanned();
  return total;
}

std::string MemoryTier::check_invariants() const {
  for (size_t i = 0; i < shards_.size(); ++i) {
    std::string error = shards_[i]->check_invariants();
    if (!error.empty()) return "shard " + std::to_string(i) + ": " + error;
  }
  return "";
}

}  // namespace internal

Result<std::unique_ptr<Tier>> new_memory_tier(MemoryTierOptions options) {
  if (options.name.empty()) return Status::invalid_argument("memory tier name must not be empty");
  Result<uint32_t> shards = internal::memory_tier_shard_count(options);
  if (!shards.is_ok()) return shards.status();
  if (options.clock == nullptr) options.clock = system_clock();
  return std::unique_ptr<Tier>(std::make_unique<internal::MemoryTier>(
      std::move(options), *shards, internal::TinyLfuConfig{}));
}

}  // namespace plancache
