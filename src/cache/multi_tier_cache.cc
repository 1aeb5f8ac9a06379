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
// Shared tier (the first tier with Tier::coordination()): a hit there is
// promoted under a read guard and a put written under a write guard; when
// the guard fails (the key was invalidated meanwhile) the local copies are
// erased again. Remote invalidations (RemoteInvalidationSink) erase the
// local copies of the tiers faster than the shared one. A put the shared
// tier cannot take (kUnavailable: Redis down) is still written to the
// faster tiers and succeeds; the shared tier journals it.
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

constexpr size_t kNoShared = static_cast<size_t>(-1);

// The first tier that is shared between instances, or kNoShared.
size_t find_shared(const std::vector<std::unique_ptr<Tier>>& tiers) {
  for (size_t i = 0; i < tiers.size(); ++i) {
    if (tiers[i]->coordination() != nullptr) return i;
  }
  return kNoShared;
}

class MultiTierCache final : public Cache,
                             private internal::ReadThroughStore,
                             private RemoteInvalidationSink {
 public:
  explicit MultiTierCache(CacheOptions options)
      : tiers_(std::move(options.tiers)),
        default_ttl_ms_(options.default_ttl_ms),
        clock_(options.clock ? std::move(options.clock) : system_clock()),
        policies_(options.policies),
        max_value_bytes_(options.max_value_bytes),
        shared_index_(find_shared(tiers_)),
        coordination_(shared_index_ == kNoShared ? nullptr
                                                 : tiers_[shared_index_]->coordination()),
        engine_(*this, *clock_, engine_options(options)) {
    if (coordination_ != nullptr) coordination_->set_sink(this);
  }

  ~MultiTierCache() override {
    if (coordination_ != nullptr) coordination_->set_sink(nullptr);
  }

  using Cache::get;

  Lookup get(const CacheKey& key, const GetOptions& get_options) override {
    const int64_t start = clock_->monotonic_ns();
    Lookup found = lookup_tiers(key, get_options.allow_stale, get_options.local_only);
    // Not counted: the full get() that follows is (one get per lookup).
    if (found.shared_unasked) return found;
    get_latency_.record(clock_->monotonic_ns() - start);
    gets_.fetch_add(1, std::memory_order_relaxed);
    if (found.hit()) {
      hits_.fetch_add(1, std::memory_order_relaxed);
      compute_ms_saved_.fetch_add(found.entry->meta.compute_ms, std::memory_order_relaxed);
    } else {
      misses_.fetch_add(1, std::memory_order_relaxed);
    }
    return found;
  }

  Status put(const CacheKey& key, BytesPtr value, const PutOptions& options) override {
    if (value == nullptr) return Status::invalid_argument("value must not be null");
    PLANCACHE_RETURN_IF_ERROR(internal::check_value_size(*value, max_value_bytes_));
    const int64_t ttl = options.ttl_ms.value_or(default_ttl_for(key.ns()));
    if (ttl < 0) return Status::invalid_argument("ttl must not be negative");
    EntryPtr entry = make_entry(std::move(value), clock_->now_ms(), ttl, options.compute_ms,
                                options.tags, options.stale_grace_ms, options.priority);
    return put_all(key, entry, tiers_.size());
  }

  Result<ReadThrough> get_or_compute(const CacheKey& key, const ComputeFn& compute) override {
    Lookup found = get(key);
    if (found.hit()) return ReadThrough{found.entry, true, found.tier, false};
    internal::ReadThroughOutcome o = engine_.join_and_wait(key, compute);
    if (o.entry == nullptr) return o.error;
    return ReadThrough{std::move(o.entry), o.cached, o.tier, o.coalesced};
  }

  SharedLease acquire_lease(const CacheKey& key) override {
    if (!uses_shared(key)) return {};
    SharedLease lease = coordination_->acquire(key);
    if (lease.state == SharedLease::State::kFound && lease.entry != nullptr) {
      (void)put_all(key, lease.entry, shared_index_);  // promote, best effort
      if (!coordination_->close(lease.ticket, true)) erase_faster(key);
      promotions_.fetch_add(1, std::memory_order_relaxed);
    }
    return lease;
  }

  Status put_leased(const CacheKey& key, const EntryPtr& entry, SharedLease& lease) override {
    if (lease.state != SharedLease::State::kHeld || !uses_shared(key)) {
      return put_all(key, entry, tiers_.size());
    }
    Result<uint64_t> write = coordination_->commit(key, entry, lease);
    if (!write.is_ok()) {
      if (write.status().code() != StatusCode::kUnavailable) {
        erase_faster(key);  // lost or revoked: a stale plan is never stored
        return write.status();
      }
      return put_local(key, entry);  // Redis down: kept here, journaled there
    }
    Status s = put_faster(key, entry);
    if (!coordination_->close(*write, true)) erase_faster(key);
    return s;
  }

  void release_lease(const CacheKey& key, SharedLease& lease) override {
    if (coordination_ != nullptr) coordination_->release(key, lease);
  }

  Result<bool> erase(const CacheKey& key) override {
    bool removed = false;
    Status first_error;
    // Slowest first, as puts: a read racing the erase finds nothing below.
    for (auto it = tiers_.rbegin(); it != tiers_.rend(); ++it) {
      Result<bool> r = (*it)->erase(key);
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
    out.compute_ms_saved = compute_ms_saved_.load(std::memory_order_relaxed);
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
  SharedLease lease(const CacheKey& key) override { return acquire_lease(key); }
  Status store_leased(const CacheKey& key, const EntryPtr& entry, SharedLease& held) override {
    (void)put_leased(key, entry, held);
    return Status::ok();
  }
  void release(const CacheKey& key, SharedLease& held) override { release_lease(key, held); }

  // RemoteInvalidationSink: another instance (or anyone writing Redis)
  // changed the shared tier; only the faster tiers hold copies of it.
  void remote_key(const CacheKey& key) override { erase_faster(key); }
  void remote_selector(const Selector& selector) override {
    for (size_t i = 0; i < shared_index_; ++i) (void)tiers_[i]->invalidate(selector);
  }
  void remote_flush() override {
    // Only the lanes that use the shared tier: the others (e.g. a machine's
    // own checkpoints) keep their entries. The namespaces a tier holds are
    // in its stats; flushes are rare (coherence lost or regained, FLUSHALL).
    for (size_t i = 0; i < shared_index_; ++i) {
      if (policies_ == nullptr) {
        (void)tiers_[i]->invalidate(Selector{});
        continue;
      }
      for (const auto& [ns, counters] : tiers_[i]->stats().namespaces) {
        if (counters.entries == 0 || !policies_->get(ns).uses(TierKind::kShared)) continue;
        Selector lane;
        lane.ns = ns;
        (void)tiers_[i]->invalidate(lane);
      }
    }
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
  Lookup lookup_tiers(const CacheKey& key, bool allow_stale, bool local_only = false) {
    const NamespacePolicy* policy = policy_for(key.ns());
    for (size_t i = 0; i < tiers_.size(); ++i) {
      if (!uses(policy, i)) continue;
      if (i == shared_index_) {
        if (local_only) {
          Lookup unasked;
          unasked.shared_unasked = true;
          return unasked;
        }
        return lookup_shared(key, allow_stale);
      }
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

  // The shared tier's answer, promoted under a read guard: an invalidation
  // between its read and the copies erases the copies again. (Tiers after
  // the shared one are not asked: it is the slowest a lane reads.)
  Lookup lookup_shared(const CacheKey& key, bool allow_stale) {
    const uint64_t ticket = coordination_->begin_read(key);
    Result<EntryPtr> r = tiers_[shared_index_]->get(key);
    if (!r.is_ok() || *r == nullptr) {
      (void)coordination_->close(ticket, true);
      return Lookup{};
    }
    const bool stale = (*r)->meta.stale_at(clock_->now_ms());
    if (stale && !allow_stale) {
      (void)coordination_->close(ticket, true);
      return Lookup{};
    }
    (void)put_all(key, *r, shared_index_);
    promotions_.fetch_add(1, std::memory_order_relaxed);
    if (!coordination_->close(ticket, true)) erase_faster(key);
    return Lookup{std::move(*r), tier_kind_name(TierKind::kShared), stale};
  }

  bool uses_shared(const CacheKey& key) const {
    return coordination_ != nullptr && uses(policy_for(key.ns()), shared_index_);
  }

  // Drops `key` from the tiers faster than the shared one.
  void erase_faster(const CacheKey& key) {
    const size_t end = std::min(shared_index_, tiers_.size());
    for (size_t i = 0; i < end; ++i) (void)tiers_[i]->erase(key);
  }

  // Writes the tiers faster than the shared one (their failure rules as put_all).
  Status put_faster(const CacheKey& key, const EntryPtr& entry) {
    return put_range(key, entry, 0, shared_index_);
  }

  // A put the shared tier could not take: the local tiers keep it.
  Status put_local(const CacheKey& key, const EntryPtr& entry) {
    Status s = put_faster(key, entry);
    if (!s.is_ok()) return s;
    return put_range(key, entry, shared_index_ + 1, tiers_.size());
  }

  // Writes `entry` into tiers [0, end), slowest first. When a tier fails,
  // the faster ones are not written and lose the key (best effort), so a
  // failed put never leaves its value in a faster tier as if stored, nor a
  // value the slower tier no longer has; the error is returned
  // (docs/decisions.md, "A failed put stores nothing").
  //
  // The shared tier is written under a write guard, and when it cannot be
  // reached the put goes on without it (put_local): Redis being down never
  // fails a put.
  Status put_all(const CacheKey& key, const EntryPtr& entry, size_t end) {
    if (end <= shared_index_ || !uses_shared(key)) return put_range(key, entry, 0, end);
    PLANCACHE_RETURN_IF_ERROR(put_range(key, entry, shared_index_ + 1, end));
    const uint64_t write = coordination_->begin_write(key);
    Status s = tiers_[shared_index_]->put(key, entry);
    if (!s.is_ok()) {
      (void)coordination_->close(write, /*applied=*/false);
      if (s.code() == StatusCode::kUnavailable) return put_faster(key, entry);
      erase_faster(key);
      return s;
    }
    s = put_faster(key, entry);
    if (!coordination_->close(write, true)) erase_faster(key);
    return s;
  }

  // Writes tiers [begin, end), slowest first (see put_all).
  Status put_range(const CacheKey& key, const EntryPtr& entry, size_t begin, size_t end) {
    const NamespacePolicy* policy = policy_for(key.ns());
    for (size_t i = end; i-- > begin;) {
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

  // Every tier is asked even after one fails, slowest first (as erase); the
  // tiers hold copies of the same entries, so the count is the largest
  // (fan_out.h).
  template <typename Fn>
  Result<uint64_t> for_each_tier(Fn&& fn) {
    internal::CountFanOut most(internal::CountFanOut::Combine::kMax);
    for (auto it = tiers_.rbegin(); it != tiers_.rend(); ++it) most.add(fn(**it));
    return most.result();
  }

  const std::vector<std::unique_ptr<Tier>> tiers_;
  const int64_t default_ttl_ms_;
  const std::shared_ptr<Clock> clock_;
  const std::shared_ptr<const NamespacePolicies> policies_;  // may be null
  const uint64_t max_value_bytes_;  // 0 = no bound
  const size_t shared_index_;       // kNoShared when no tier is shared
  SharedCoordination* const coordination_;  // of tiers_[shared_index_], or null
  internal::LatencyHistogram get_latency_;
  std::atomic<uint64_t> gets_{0}, hits_{0}, misses_{0}, promotions_{0};
  // The sum of the hits' compute_ms (CacheStats::compute_ms_saved).
  std::atomic<uint64_t> compute_ms_saved_{0};
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
