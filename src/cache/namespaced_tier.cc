#include "cache/namespaced_tier.h"

#include <algorithm>

#include "cache/fan_out.h"

namespace plancache::internal {
namespace {

class NamespacedTier final : public Tier {
 public:
  NamespacedTier(TierKind kind, std::map<std::string, std::unique_ptr<Tier>, std::less<>> tiers)
      : kind_(kind), name_(tier_kind_name(kind)), tiers_(std::move(tiers)) {
    fallback_ = tiers_.find(kDefaultNamespace)->second.get();
  }

  TierKind kind() const override { return kind_; }
  std::string_view name() const override { return name_; }
  Result<EntryPtr> get(const CacheKey& key) override { return route(key.ns()).get(key); }
  Status put(const CacheKey& key, EntryPtr entry) override {
    return route(key.ns()).put(key, std::move(entry));
  }
  Result<bool> erase(const CacheKey& key) override { return route(key.ns()).erase(key); }

  Result<uint64_t> invalidate(const Selector& selector) override {
    if (selector.ns) return route(*selector.ns).invalidate(selector);
    return sum([&](Tier& t) { return t.invalidate(selector); });
  }

  Result<uint64_t> evict_fraction(double fraction) override {
    return sum([&](Tier& t) { return t.evict_fraction(fraction); });
  }

  uint64_t purge_expired() override {
    uint64_t total = 0;
    for (auto& [ns, tier] : tiers_) total += tier->purge_expired();
    return total;
  }

  // One namespace: its sub-tier. None: every sub-tier's rows merged in key
  // order (the sub-tiers hold distinct namespaces, so no key repeats); a
  // failing sub-tier is skipped as MultiTierCache skips a failing tier.
  Result<std::vector<ListedEntry>> list(const Selector& selector, size_t limit) override {
    if (selector.ns) return route(*selector.ns).list(selector, limit);
    ListingFanOut listing;
    for (auto& [ns, tier] : tiers_) listing.add(tier->list(selector, limit));
    return listing.merged(limit);
  }

  TierStats stats() const override {
    TierStats out;
    out.name = name_;
    for (const auto& [ns, tier] : tiers_) add(out, tier->stats());
    return out;
  }

 private:
  Tier& route(std::string_view ns) const {
    auto it = tiers_.find(ns);
    return it == tiers_.end() ? *fallback_ : *it->second;
  }

  // Every sub-tier is asked even after one fails (fan_out.h).
  template <typename Fn>
  Result<uint64_t> sum(Fn&& fn) {
    CountFanOut total(CountFanOut::Combine::kSum);
    for (auto& [ns, tier] : tiers_) total.add(fn(*tier));
    return total.result();
  }

  static void add(TierStats& out, const TierStats& s) {
    out.connected = out.connected && s.connected;
    out.entries += s.entries;
    out.bytes += s.bytes;
    out.max_entries += s.max_entries;
    out.max_bytes += s.max_bytes;
    out.hits += s.hits;
    out.misses += s.misses;
    out.puts += s.puts;
    out.evictions += s.evictions;
    out.expirations += s.expirations;
    out.invalidations += s.invalidations;
    out.errors += s.errors;
    out.corrupt_entries += s.corrupt_entries;
    out.pending_writes += s.pending_writes;
    out.write_behind_full += s.write_behind_full;
    for (const auto& [ns, c] : s.namespaces) {
      NamespaceCounters& dst = out.namespaces[ns];
      dst.entries += c.entries;
      dst.bytes += c.bytes;
      dst.hits += c.hits;
      dst.misses += c.misses;
      dst.evictions += c.evictions;
    }
  }

  const TierKind kind_;
  const std::string name_;
  const std::map<std::string, std::unique_ptr<Tier>, std::less<>> tiers_;
  Tier* fallback_ = nullptr;  // the default namespace's sub-tier; owned by tiers_
};

}  // namespace

Result<std::unique_ptr<Tier>> new_namespaced_tier(TierKind kind,
                                                  const NamespacePolicies& policies,
                                                  const SubTierFactory& factory) {
  std::map<std::string, std::unique_ptr<Tier>, std::less<>> tiers;
  for (const auto& [ns, policy] : policies.all()) {
    if (ns != kDefaultNamespace && !policy.uses(kind)) continue;
    Result<std::unique_ptr<Tier>> tier = factory(ns, policy);
    if (!tier.is_ok()) return tier.status();
    tiers.emplace(ns, std::move(tier).value());
  }
  return std::unique_ptr<Tier>(
      std::make_unique<NamespacedTier>(kind, std::move(tiers)));
}

SubTierFactory memory_sub_tier_factory(MemoryTierOptions base) {
  return [base](const std::string& ns, const NamespacePolicy& policy) {
    MemoryTierOptions options = base;
    options.kept_namespaces = {ns};  // the lane's own; any other name it holds is unconfigured
    options.max_entries = policy.memory.max_entries;
    options.max_bytes = policy.memory.max_bytes;
    options.policy = policy.memory.eviction;
    return new_memory_tier(std::move(options));
  };
}

void apply_lane_policies(DiskTierOptions& l2, std::shared_ptr<const NamespacePolicies> policies) {
  for (const auto& [ns, policy] : policies->all()) l2.kept_namespaces.push_back(ns);
  l2.compress_namespace = [policies = std::move(policies)](std::string_view ns) {
    return policies->get(ns).disk.compress;
  };
}

}  // namespace plancache::internal
