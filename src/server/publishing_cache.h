// PublishingCache: the server's Cache as the event stream sees it. Every
// call is forwarded to the composed cache; a put that succeeded (put(),
// put_leased()) is then published on the EventBus as a `put` event. It is
// the one place the server's stores are seen: PUT /v1/plans, PUT
// /v1/entries, the read-through flights' store, background refreshes and
// the lease holder's PUT all go through put() or put_leased(). (The
// library's own get_or_compute() stores inside the inner cache and is not
// published; the server does not call it.) Promotions (a lower tier's hit
// copied upward) are not puts. With no subscriber a put costs one relaxed
// load more (EventBus::active).
//
// Ownership: owns the inner cache; `bus` must outlive it.
// Thread-safety: as the inner cache (fully thread-safe).
#pragma once

#include <memory>
#include <vector>

#include "plancache/cache.h"
#include "plancache/namespace_policy.h"
#include "server/event_bus.h"

namespace plancache::internal {

class PublishingCache final : public Cache {
 public:
  // `tiers`: the kinds of the inner cache's tiers (what a put event names,
  // narrowed to the lane's `tiers`). `policies` null = the presets.
  PublishingCache(std::unique_ptr<Cache> inner, EventBus& bus,
                  std::shared_ptr<const NamespacePolicies> policies, std::vector<TierKind> tiers);

  Lookup get(const CacheKey& key, const GetOptions& options) override {
    return inner_->get(key, options);
  }
  Status put(const CacheKey& key, BytesPtr value, const PutOptions& options) override;
  Result<ReadThrough> get_or_compute(const CacheKey& key, const ComputeFn& compute) override {
    return inner_->get_or_compute(key, compute);
  }
  SharedLease acquire_lease(const CacheKey& key) override { return inner_->acquire_lease(key); }
  Status put_leased(const CacheKey& key, const EntryPtr& entry, SharedLease& lease) override;
  void release_lease(const CacheKey& key, SharedLease& lease) override {
    inner_->release_lease(key, lease);
  }
  Result<bool> erase(const CacheKey& key) override { return inner_->erase(key); }
  Result<uint64_t> invalidate(const Selector& selector) override {
    return inner_->invalidate(selector);
  }
  Result<uint64_t> clear() override { return inner_->clear(); }
  Result<uint64_t> evict_fraction(double fraction) override {
    return inner_->evict_fraction(fraction);
  }
  uint64_t purge_expired() override { return inner_->purge_expired(); }
  Result<std::vector<ListedEntry>> list(const Selector& selector, size_t limit) override {
    return inner_->list(selector, limit);
  }
  CacheStats stats() const override { return inner_->stats(); }
  const Clock& clock() const override { return inner_->clock(); }

 private:
  // Bit (1 << TierKind) per tier of the cache that namespace `ns` uses.
  uint8_t tiers_of(std::string_view ns) const;

  std::unique_ptr<Cache> inner_;
  EventBus& bus_;
  const std::shared_ptr<const NamespacePolicies> policies_;
  const std::vector<TierKind> tiers_;
};

}  // namespace plancache::internal
