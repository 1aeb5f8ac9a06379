// MultiTierCache: composes tiers into the plancache::Cache of cache.h.
//
// Read path: tiers are asked in order; the first hit answers and is promoted
// (the same EntryPtr, so the same expiry) into every tier above it. A tier
// error is counted and treated as a miss for that tier, so a broken shared
// tier degrades the cache instead of failing reads.
//
// Write path: put() writes every tier (write-through), the slowest first; a
// tier that fails stops the put before the faster tiers, which drop the key,
// and its error is returned: a failed put is never served as if stored
// (e.g. a plan held in memory while the disk tier refused it).
// Invalidations go to every tier.
//
// Listing: every tier lists at most `limit` rows in key order; the union,
// one row per key (the fastest tier's), is cut to `limit` -- the first
// `limit` keys overall are among the first `limit` of some tier. A tier that
// fails is skipped, as on the read path.
//
// Read-through: get_or_compute() looks up, and on a miss waits on the
// read-through engine (read_through_engine.h), which owns single-flight,
// the leader's re-check and the min compute time; its compute functions run
// inline on the leader's own thread. The cache is the engine's store: the
// re-check and the store go straight to the tiers.
#include <algorithm>
#include <atomic>

#include "cache/fan_out.h"
#include "cache/latency_histogram.h"
#include "cache/read_through_engine.h"
#include "core/selector_match.h"
#include "plancache/cache.h"

namespace plancache {
namespace {

internal::ReadThroughOptions engine_options(const CacheOptions& options) {
  internal::ReadThroughOptions o;
  o.executor = internal::inline_executor();  // the blocking caller's thread
  o.policies = options.policies;
  o.default_ttl_ms = options.default_ttl_ms;
  return o;
}

class MultiTierCache final : public Cache, private internal::ReadThroughStore {
 public:
  explicit MultiTierCache(CacheOptions options)
      : tiers_(std::move(options.tiers)),
        default_ttl_ms_(options.default_ttl_ms),
        clock_(options.clock ? std::move(options.clock) : system_clock()),
        policies_(options.policies),
        max_value_bytes_(options.max_value_bytes),
        engine_(*this, *clock_, engine_options(options)) {}

  using Cache::get;

  Lookup get(const CacheKey& key, const GetOptions& get_options) override {
    const int64_t start = clock_->monotonic_ns();
    Lookup found = lookup_tiers(key, get_options.allow_stale);
    get_latency_.record(clock_->monotonic_ns() - start);
    gets_.fetch_add(1, std::memory_order_relaxed);
    (found.hit() ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
    return found;
  }

  Status put(const CacheKey& key, BytesPtr value, const PutOptions& options) override {
    if (value == nullptr) return Status::invalid_argument("value must not be null");
    PLANCACHE_RETURN_IF_ERROR(internal::check_value_size(*value, max_value_bytes_));
    const int64_t ttl = options.ttl_ms.value_or(default_ttl_for(key.ns()));
    if (ttl < 0) return Status::invalid_argument("ttl must not be negative");
    EntryPtr entry = make_entry(std::move(value), clock_->now_ms(), ttl, options.compute_ms,
                                options.tags, options.stale_grace_ms);
    return put_all(key, entry, tiers_.size());
  }

  Result<ReadThrough> get_or_compute(const CacheKey& key, const ComputeFn& compute) override {
    Lookup found = get(key);
    if (found.hit()) return ReadThrough{found.entry, true, found.tier, false};
    internal::ReadThroughOutcome o = engine_.join_and_wait(key, compute);
    if (o.entry == nullptr) return o.error;
    return ReadThrough{std::move(o.entry), o.cached, o.tier, o.coalesced};
  }

  Result<bool> erase(const CacheKey& key) override {
    bool removed = false;
    Status first_error;
    for (auto& tier : tiers_) {
      Result<bool> r = tier->erase(key);
      if (!r.is_ok()) {
        if (first_error.is_ok()) first_error = r.status();
        continue;
      }
      removed = removed || *r;
    }
    if (!first_error.is_ok()) return first_error;
    return removed;
  }

  Result<uint64_t> invalidate(const Selector& selector) override {
    PLANCACHE_RETURN_IF_ERROR(internal::validate_selector(selector));
    return for_each_tier([&](Tier& t) { return t.invalidate(selector); });
  }

  Result<uint64_t> clear() override { return invalidate(Selector{}); }

  Result<uint64_t> evict_fraction(double fraction) override {
    if (!(fraction > 0.0 && fraction <= 1.0)) {
      return Status::invalid_argument("fraction must be in (0, 1]");
    }
    return for_each_tier([&](Tier& t) { return t.evict_fraction(fraction); });
  }

  uint64_t purge_expired() override {
    uint64_t total = 0;
    for (auto& tier : tiers_) total += tier->purge_expired();
    return total;
  }

  Result<std::vector<ListedEntry>> list(const Selector& selector, size_t limit) override {
    PLANCACHE_RETURN_IF_ERROR(internal::validate_selector(selector));
    // Like get(): a namespace's listing skips the tiers its policy does not use.
    const NamespacePolicy* policy = selector.ns ? policy_for(*selector.ns) : nullptr;
    internal::ListingFanOut listing;
    for (size_t i = 0; i < tiers_.size(); ++i) {
      if (uses(policy, i)) listing.add(tiers_[i]->list(selector, limit));
    }
    return listing.merged(limit);
  }

  CacheStats stats() const override {
    CacheStats out;
    for (const auto& tier : tiers_) {
      out.tiers.push_back(tier->stats());
      out.tiers.back().kind = tier->kind();
    }
    out.gets = gets_.load(std::memory_order_relaxed);
    out.hits = hits_.load(std::memory_order_relaxed);
    out.misses = misses_.load(std::memory_order_relaxed);
    out.promotions = promotions_.load(std::memory_order_relaxed);
    const internal::ReadThroughStats rt = engine_.stats();
    out.computes = rt.computes;
    out.compute_errors = rt.compute_errors;
    out.coalesced = rt.coalesced;
    out.inflight = rt.inflight;
    out.waiting = rt.waiting;
    out.get_latency = get_latency_.summary();
    return out;
  }

  const Clock& clock() const override { return *clock_; }

 private:
  // ReadThroughStore: the engine's re-check and store reach the tiers
  // directly (no get() counted; a failed store only costs a recompute).
  Lookup lookup(const CacheKey& key, bool allow_stale) override {
    return lookup_tiers(key, allow_stale);
  }
  Status admit(const Bytes& value) const override {
    return internal::check_value_size(value, max_value_bytes_);
  }
  Status store(const CacheKey& key, const EntryPtr& entry) override {
    (void)put_all(key, entry, tiers_.size());
    return Status::ok();
  }

  // The namespace's policy, or null when the cache has no policies.
  const NamespacePolicy* policy_for(std::string_view ns) const {
    return policies_ ? &policies_->get(ns) : nullptr;
  }

  int64_t default_ttl_for(std::string_view ns) const {
    const NamespacePolicy* p = policy_for(ns);
    return p ? p->default_ttl_ms : default_ttl_ms_;
  }

  bool uses(const NamespacePolicy* policy, size_t tier) const {
    return policy == nullptr || policy->uses(tiers_[tier]->kind());
  }

  // A stale entry (past its TTL, in its grace period) is returned only when
  // `allow_stale`; otherwise it is a miss, and lower tiers are not asked
  // (they hold the same entry, promoted from below or written through).
  Lookup lookup_tiers(const CacheKey& key, bool allow_stale) {
    const NamespacePolicy* policy = policy_for(key.ns());
    for (size_t i = 0; i < tiers_.size(); ++i) {
      if (!uses(policy, i)) continue;
      Result<EntryPtr> r = tiers_[i]->get(key);
      if (!r.is_ok() || *r == nullptr) continue;  // tier errors are counted by the tier
      const bool stale = (*r)->meta.stale_at(clock_->now_ms());
      if (stale && !allow_stale) return Lookup{};
      if (i > 0) {
        // Best effort: a failed promotion only costs a later lower-tier hit.
        (void)put_all(key, *r, i);
        promotions_.fetch_add(1, std::memory_order_relaxed);
      }
      return Lookup{std::move(*r), tier_kind_name(tiers_[i]->kind()), stale};
    }
    return Lookup{};
  }

  // Writes `entry` into tiers [0, end), slowest first. When a tier fails,
  // the faster ones are not written and lose the key (best effort), so a
  // failed put never leaves its value in a faster tier as if stored, nor a
  // value the slower tier no longer has; the error is returned
  // (docs/decisions.md, "A failed put stores nothing").
  Status put_all(const CacheKey& key, const EntryPtr& entry, size_t end) {
    const NamespacePolicy* policy = policy_for(key.ns());
    for (size_t i = end; i-- > 0;) {
      if (!uses(policy, i)) continue;
      Status s = tiers_[i]->put(key, entry);
      if (s.is_ok()) continue;
      for (size_t j = 0; j < i; ++j) {
        if (uses(policy, j)) (void)tiers_[j]->erase(key);
      }
      return s;
    }
    return Status::ok();
  }

  // Every tier is asked even after one fails; the tiers hold copies of the
  // same entries, so the count is the largest (fan_out.h).
  template <typename Fn>
  Result<uint64_t> for_each_tier(Fn&& fn) {
    internal::CountFanOut most(internal::CountFanOut::Combine::kMax);
    for (auto& tier : tiers_) most.add(fn(*tier));
    return most.result();
  }

  const std::vector<std::unique_ptr<Tier>> tiers_;
  const int64_t default_ttl_ms_;
  const std::shared_ptr<Clock> clock_;
  const std::shared_ptr<const NamespacePolicies> policies_;  // may be null
  const uint64_t max_value_bytes_;  // 0 = no bound
  internal::LatencyHistogram get_latency_;
  std::atomic<uint64_t> gets_{0}, hits_{0}, misses_{0}, promotions_{0};
  internal::ReadThroughEngine engine_;  // last: uses the members above
};

}  // namespace

Result<std::unique_ptr<Cache>> new_cache(CacheOptions options) {
  if (options.tiers.empty()) return Status::invalid_argument("a cache needs at least one tier");
  for (const auto& tier : options.tiers) {
    if (tier == nullptr) return Status::invalid_argument("tiers must not contain null");
  }
  if (options.default_ttl_ms < 0) {
    return Status::invalid_argument("default_ttl_ms must not be negative");
  }
  return std::unique_ptr<Cache>(std::make_unique<MultiTierCache>(std::move(options)));
}

}  // namespace plancache
