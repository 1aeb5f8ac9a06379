// PublishingCache (publishing_cache.h): the put events.
//
// A put's event is published after the inner cache returned ok, so the
// removals it caused in L1 (the replaced value, evictions to make room)
// come before it in the stream. Its expires_ms is re-derived here by the
// cache's rule (the put's TTL, else the lane's default_ttl_ms) on the
// cache's clock, so it may differ from the stored one by the put's
// duration (a millisecond or so).
#include "server/publishing_cache.h"

namespace plancache::internal {

PublishingCache::PublishingCache(std::unique_ptr<Cache> inner, EventBus& bus,
                                 std::shared_ptr<const NamespacePolicies> policies,
                                 std::vector<TierKind> tiers)
    : inner_(std::move(inner)),
      bus_(bus),
      policies_(policies ? std::move(policies) : std::make_shared<const NamespacePolicies>()),
      tiers_(std::move(tiers)) {}

uint8_t PublishingCache::tiers_of(std::string_view ns) const {
  const NamespacePolicy& policy = policies_->get(ns);
  uint8_t mask = 0;
  for (TierKind kind : tiers_) {
    if (policy.uses(kind)) mask |= static_cast<uint8_t>(1u << static_cast<unsigned>(kind));
  }
  return mask;
}

Status PublishingCache::put(const CacheKey& key, BytesPtr value, const PutOptions& options) {
  const uint64_t bytes = value != nullptr ? value->size() : 0;
  Status status = inner_->put(key, std::move(value), options);
  if (!status.is_ok() || !bus_.active()) return status;
  EntryMeta meta;
  const int64_t ttl_ms = options.ttl_ms.value_or(policies_->get(key.ns()).default_ttl_ms);
  meta.expires_ms = ttl_ms > 0 ? inner_->clock().now_ms() + ttl_ms : 0;
  meta.compute_ms = options.compute_ms;
  meta.tags = options.tags;
  meta.priority = options.priority;
  bus_.publish_put(key, meta, bytes, tiers_of(key.ns()));
  return status;
}

Status PublishingCache::put_leased(const CacheKey& key, const EntryPtr& entry,
                                   SharedLease& lease) {
  Status status = inner_->put_leased(key, entry, lease);
  if (!status.is_ok() || !bus_.active() || entry == nullptr) return status;
  bus_.publish_put(key, entry->meta, entry->value != nullptr ? entry->value->size() : 0,
                   tiers_of(key.ns()));
  return status;
}

}  // namespace plancache::internal
