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
// Read-through: get_or_compute() looks up, and on a miss joins the key's
// single flight. The leader re-checks the tiers (another leader may have
// stored the entry between our miss and our joining), runs the compute
// function with no lock held, stores the value, and only then leaves the
// flight, so a newcomer either joins the running flight or finds the value.
#include <algorithm>
#include <atomic>

#include "cache/fan_out.h"
#include "cache/latency_histogram.h"
#include "cache/single_flight.h"
#include "core/selector_match.h"
#include "plancache/cache.h"

namespace plancache {
namespace {

using internal::FlightOutcome;

class MultiTierCache final : public Cache {
 public:
  explicit MultiTierCache(CacheOptions options)
      : tiers_(std::move(options.tiers)),
        default_ttl_ms_(options.default_ttl_ms),
        clock_(options.clock ? std::move(options.clock) : system_clock()),
        policies_(std::move(options.policies)),
        max_value_bytes_(options.max_value_bytes) {}

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
    PLANCACHE_RETURN_IF_ERROR(check_value_size(*value));
    const int64_t ttl = options.ttl_ms.value_or(default_ttl_for(key.ns()));
    if (ttl < 0) return Status::invalid_argument("ttl must not be negative");
    EntryPtr entry = make_entry(std::move(value), clock_->now_ms(), ttl, options.compute_ms,
                                options.tags, options.stale_grace_ms);
    return put_all(key, entry, tiers_.size());
  }

  Result<ReadThrough> get_or_compute(const CacheKey& key, const ComputeFn& compute) override {
    Lookup found = get(key);
    if (found.hit()) return ReadThrough{found.entry, true, found.tier, false};

    bool coalesced = false;
    Result<FlightOutcome> outcome =
        flights_.run(key.encoded(), [&] { return lead_compute(key, compute); }, &coalesced);
    if (coalesced) coalesced_.fetch_add(1, std::memory_order_relaxed);
    if (!outcome.is_ok()) return outcome.status();
    return ReadThrough{outcome->entry, outcome->from_cache, outcome->tier, coalesced};
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
    out.computes = computes_.load(std::memory_order_relaxed);
    out.compute_errors = compute_errors_.load(std::memory_order_relaxed);
    out.coalesced = coalesced_.load(std::memory_order_relaxed);
    out.inflight = flights_.inflight();
    out.waiting = flights_.waiting();
    out.get_latency = get_latency_.summary();
    return out;
  }

  const Clock& clock() const override { return *clock_; }

 private:
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

  // The one bound on a value's size (CacheOptions::max_value_bytes).
  Status check_value_size(const Bytes& value) const {
    if (max_value_bytes_ == 0 || value.size() <= max_value_bytes_) return Status::ok();
    return Status::resource_exhausted("value of " + std::to_string(value.size()) +
                                      " bytes is larger than the limit of " +
                                      std::to_string(max_value_bytes_) + " bytes");
  }

  Result<FlightOutcome> lead_compute(const CacheKey& key, const ComputeFn& compute) {
    Lookup again = lookup_tiers(key, /*allow_stale=*/false);
    if (again.hit()) return FlightOutcome{again.entry, true, again.tier};

    computes_.fetch_add(1, std::memory_order_relaxed);
    const int64_t start = clock_->monotonic_ns();
    Result<Computed> computed = compute();
    const int64_t elapsed_ms = (clock_->monotonic_ns() - start) / 1'000'000;
    if (!computed.is_ok() || computed->value == nullptr) {
      compute_errors_.fetch_add(1, std::memory_order_relaxed);
      if (computed.is_ok()) return Status::internal("compute function returned a null value");
      return computed.status();
    }
    if (Status size = check_value_size(*computed->value); !size.is_ok()) {
      compute_errors_.fetch_add(1, std::memory_order_relaxed);
      return size;
    }
    PutOptions options = computed->options;
    if (options.compute_ms == 0) options.compute_ms = static_cast<uint32_t>(elapsed_ms);
    const int64_t ttl = options.ttl_ms.value_or(default_ttl_for(key.ns()));
    EntryPtr entry = make_entry(computed->value, clock_->now_ms(), std::max<int64_t>(ttl, 0),
                                options.compute_ms, options.tags, options.stale_grace_ms);
    const NamespacePolicy* policy = policy_for(key.ns());
    const bool worth_keeping = policy == nullptr || policy->worth_storing(options.compute_ms);
    if (computed->store && worth_keeping) (void)put_all(key, entry, tiers_.size());
    return FlightOutcome{std::move(entry), false, {}};
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
  internal::SingleFlight flights_;
  internal::LatencyHistogram get_latency_;
  std::atomic<uint64_t> gets_{0}, hits_{0}, misses_{0}, promotions_{0};
  std::atomic<uint64_t> computes_{0}, compute_errors_{0}, coalesced_{0};
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
