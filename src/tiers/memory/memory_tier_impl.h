// MemoryTier: the Tier returned by new_memory_tier() (plancache/memory_tier.h).
//
// Declared here (not in the public header) so tests and benchmarks can reach
// the few internal hooks below; everyone else uses it through Tier.
//
// Thread-safety: fully thread-safe. Each shard has its own mutex; an
// operation on one key locks one shard; bulk operations lock the shards one
// at a time (so they are not atomic across shards). The removal listener is
// called on the calling thread after the shard lock is released.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plancache/memory_tier.h"
#include "tiers/memory/shard.h"

namespace plancache::internal {

class MemoryTier final : public Tier {
 public:
  // REQUIRES: options validated, shard_count a power of two >= 1,
  // options.clock not null.
  MemoryTier(MemoryTierOptions options, uint32_t shard_count, const TinyLfuConfig& tinylfu);
  ~MemoryTier() override = default;

  TierKind kind() const override { return options_.kind; }
  std::string_view name() const override { return options_.name; }
  Result<EntryPtr> get(const CacheKey& key) override;
  // Errors: invalid_argument for a null entry or value; resource_exhausted
  // when the entry's charge exceeds one shard's byte budget (max_bytes /
  // shards) -- the entry is not stored and any previous entry of the key is
  // removed (listener cause kReplaced).
  Status put(const CacheKey& key, EntryPtr entry) override;
  Result<bool> erase(const CacheKey& key) override;
  Result<uint64_t> invalidate(const Selector& selector) override;
  Result<uint64_t> evict_fraction(double fraction) override;
  uint64_t purge_expired() override;
  // Splits `max_bytes` over the shards as the configured bound is split.
  uint64_t limit_bytes(uint64_t max_bytes) override;
  TierStats stats() const override;
  // Visits every shard under its lock in turn (not atomic across shards).
  Result<std::vector<ListedEntry>> list(const Selector& selector, size_t limit) override;

  // --- internal hooks, for tests and benchmarks ---
  size_t shard_count() const { return shards_.size(); }
  // Nodes examined by invalidate() since creation, over all shards.
  uint64_t nodes_scanned() const;
  // "" when every shard's indexes and counts agree; else what is wrong.
  std::string check_invariants() const;

 private:
  Shard& shard_for(uint64_t hash) const { return *shards_[(hash >> 32) & shard_mask_]; }
  void notify(RemovedEntries& removed);
  // Drops every shard's records of the namespaces (not kept) that hold no
  // entry in any shard. After bulk removals (invalidate, evict_fraction,
  // purge_expired); a put's evictions leave theirs to the next of those.
  void drop_empty_namespaces();
  bool kept(std::string_view ns) const;
  void call_listener(const CacheKey& key, const EntryPtr& entry, RemovalCause cause);

  const MemoryTierOptions options_;
  std::vector<std::unique_ptr<Shard>> shards_;
  uint64_t shard_mask_;
  std::atomic<uint64_t> listener_errors_{0};
};

// The shard count new_memory_tier() uses for `options`, or invalid_argument.
Result<uint32_t> memory_tier_shard_count(const MemoryTierOptions& options);

}  // namespace plancache::internal
