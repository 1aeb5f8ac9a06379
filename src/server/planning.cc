// Planning: flights of planner runs (see planning.h for the contract).
//
// Invariants:
// - flights_ holds a key exactly while its job has not yet handed out its
//   outcome; the job stores the plan before it erases the key, so a caller
//   that misses and finds no flight will find the plan on the job's
//   re-check (or start a new flight that finds it there).
// - Callbacks run after the key is erased and with mu_ released: a callback
//   may call plan() again (e.g. a warm loop) without deadlocking.
// - hot_ only holds plans inside their refresh-ahead window; it is cleared
//   when it grows past kMaxHotKeys, so a flood of distinct keys cannot grow
//   it without bound (the cost: some refresh-ahead counts start over).
#include "server/planning.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cstdint>

namespace plancache::internal {
namespace {

constexpr size_t kMaxHotKeys = 100'000;

int64_t seconds_to_ms(int64_t s) { return s > INT64_MAX / 1000 ? INT64_MAX : s * 1000; }

PlanOutcome failed(Status error) {
  PlanOutcome o;
  o.error = std::move(error);
  return o;
}

PlanOutcome found(EntryPtr entry, std::string_view tier, bool stale) {
  PlanOutcome o;
  o.entry = std::move(entry);
  o.cached = true;
  o.tier = tier;
  o.stale = stale;
  return o;
}

}  // namespace

Planning::Planning(Cache& cache, std::shared_ptr<const NamespacePolicies> policies,
                   PlanningOptions options)
    : cache_(cache),
      policies_(policies ? std::move(policies) : std::make_shared<const NamespacePolicies>()),
      options_(std::move(options)),
      pool_(std::max(1u, options_.max_concurrent)) {}

Planning::~Planning() {
  stop(std::chrono::milliseconds(0));
  if (stopper_.joinable()) stopper_.join();
  pool_.join();
}

void Planning::stop(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  stopper_ = std::thread([this, grace] {
    std::unique_lock lock(mu_);
    if (flights_done_.wait_for(lock, grace, [this] { return flights_.empty(); })) return;
    lock.unlock();
    cancel_planners();
  });
}

void Planning::cancel_planners() {
  if (options_.planner) options_.planner->cancel_all();
  for (const auto& [ns, planner] : options_.namespace_planners) planner->cancel_all();
}

Planner* Planning::planner_for(std::string_view ns) const {
  const auto it = options_.namespace_planners.find(ns);
  if (it != options_.namespace_planners.end()) return it->second.get();
  if (!policies_->configured(ns)) {
    // Unconfigured namespaces follow the default namespace's planner.
    const auto d = options_.namespace_planners.find(kDefaultNamespace);
    if (d != options_.namespace_planners.end()) return d->second.get();
  }
  return options_.planner.get();
}

int64_t Planning::stale_grace_ms(std::string_view ns) const {
  const NamespacePolicy& p = policies_->get(ns);
  return p.read_through.stale_grace_ms();
}

bool Planning::may_serve_while_revalidating(std::string_view ns, const Entry& entry,
                                            int64_t now_ms) const {
  const int64_t window = seconds_to_ms(policies_->get(ns).read_through.stale_while_revalidate_s);
  return window > 0 && entry.meta.fresh_until_ms != 0 &&
         now_ms - entry.meta.fresh_until_ms < window;
}

void Planning::plan(const CacheKey& key, PlanRequest request, EntryPtr stale, Callback done) {
  std::unique_lock lock(mu_);
  if (stopping_) {
    lock.unlock();
    return done(failed(Status::unavailable("the server is stopping; ask again later")));
  }
  auto [it, inserted] = flights_.try_emplace(key.encoded());
  if (!inserted) {
    it->second->waiters.push_back(std::move(done));
    if (!it->second->stale) it->second->stale = std::move(stale);
    coalesced_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  it->second = std::make_shared<Flight>();
  it->second->waiters.push_back(std::move(done));
  it->second->stale = std::move(stale);
  launch(key, std::move(request), it->second);
}

void Planning::refresh(const CacheKey& key, PlanRequest request) {
  std::unique_lock lock(mu_);
  if (stopping_) return;
  if (flights_.count(key.encoded()) != 0) return;  // a run is under way already
  if (background_running_.load(std::memory_order_relaxed) >= options_.max_background_refreshes) {
    refreshes_skipped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  background_running_.fetch_add(1, std::memory_order_relaxed);
  refreshes_.fetch_add(1, std::memory_order_relaxed);
  auto flight = std::make_shared<Flight>();
  flight->background = true;
  flights_.emplace(key.encoded(), flight);
  launch(key, std::move(request), std::move(flight));
}

bool Planning::note_hit(const CacheKey& key, const Entry& entry) {
  if (options_.refresh_ahead_ms <= 0 || options_.refresh_ahead_min_hits == 0) return false;
  const int64_t fresh_until = entry.meta.fresh_until();
  if (fresh_until == 0) return false;  // never expires
  const int64_t ttl = fresh_until - entry.meta.created_ms;
  const int64_t window = std::min(options_.refresh_ahead_ms, ttl / 2);
  if (fresh_until - cache_.clock().now_ms() > window) return false;  // not near its end yet
  std::lock_guard lock(mu_);
  if (hot_.size() >= kMaxHotKeys) hot_.clear();
  uint32_t& hits = hot_[key.encoded()];
  if (++hits < options_.refresh_ahead_min_hits) return false;
  hot_.erase(key.encoded());
  return flights_.count(key.encoded()) == 0;
}

void Planning::launch(const CacheKey& key, PlanRequest request, std::shared_ptr<Flight> flight) {
  boost::asio::post(pool_, [this, key, request = std::move(request), flight = std::move(flight)] {
    PlanOutcome outcome = run_flight(key, request, *flight);
    std::vector<Callback> waiters;
    {
      std::lock_guard lock(mu_);
      waiters = std::move(flight->waiters);
      flights_.erase(key.encoded());
      if (flights_.empty()) flights_done_.notify_all();
    }
    if (flight->background) background_running_.fetch_sub(1, std::memory_order_relaxed);
    for (size_t i = 0; i < waiters.size(); ++i) {
      PlanOutcome copy = outcome;
      copy.coalesced = flight->background || i != 0;
      waiters[i](std::move(copy));
    }
  });
}

PlanOutcome Planning::run_flight(const CacheKey& key, const PlanRequest& request,
                                 const Flight& flight) {
  // Another flight may have stored the plan between the caller's miss and now.
  if (!flight.background) {
    const Lookup again = cache_.get(key);
    if (again.hit()) return found(again.entry, again.tier, false);
  }
  EntryPtr stale;
  {
    std::lock_guard lock(mu_);  // waiters may still be adding their stale plan
    stale = flight.stale;
  }
  return call_planner(key, request, stale);
}

PlanOutcome Planning::call_planner(const CacheKey& key, const PlanRequest& request,
                                   const EntryPtr& stale) {
  Planner* planner = planner_for(key.ns());
  if (planner == nullptr) {
    return failed(Status::unavailable("no planner configured for namespace '" +
                                      std::string(key.ns()) + "'"));
  }
  const NamespacePolicy& policy = policies_->get(key.ns());
  planner_calls_.fetch_add(1, std::memory_order_relaxed);
  const int64_t start = cache_.clock().monotonic_ns();
  Result<std::string> plan = planner->plan(request);
  const int64_t elapsed_ms = (cache_.clock().monotonic_ns() - start) / 1'000'000;
  if (!plan.is_ok()) {
    planner_errors_.fetch_add(1, std::memory_order_relaxed);
    const int64_t now = cache_.clock().now_ms();
    const int64_t window = seconds_to_ms(policy.read_through.stale_if_error_s);
    if (stale != nullptr && window > 0 && stale->meta.fresh_until_ms != 0 &&
        now - stale->meta.fresh_until_ms < window && !stale->meta.expired_at(now)) {
      stale_served_.fetch_add(1, std::memory_order_relaxed);
      return found(stale, {}, /*stale=*/true);  // the caller knows its tier
    }
    return failed(plan.status());
  }
  PutOptions put;
  put.compute_ms = static_cast<uint32_t>(std::clamp<int64_t>(elapsed_ms, 0, UINT32_MAX));
  put.stale_grace_ms = stale_grace_ms(key.ns());
  auto value = std::make_shared<const Bytes>(std::move(plan).value());
  if (options_.store && policy.worth_storing(put.compute_ms)) {
    // A failed store only costs a later recompute; the caller still gets the
    // plan -- unless the plan is over the one size bound of a plan.
    Status stored = cache_.put(key, value, put);
    if (stored.code() == StatusCode::kResourceExhausted) {
      planner_errors_.fetch_add(1, std::memory_order_relaxed);
      return failed(Status::bad_gateway(planner->describe() + " answered a plan too large to store: " +
                                        stored.message()));
    }
    stored_.fetch_add(1, std::memory_order_relaxed);
  } else {
    not_stored_.fetch_add(1, std::memory_order_relaxed);
  }
  const int64_t ttl = policy.default_ttl_ms;
  PlanOutcome computed;
  computed.entry = make_entry(std::move(value), cache_.clock().now_ms(), ttl, put.compute_ms, {},
                              put.stale_grace_ms);
  return computed;
}

PlanningStats Planning::stats() const {
  PlanningStats s;
  s.planner_calls = planner_calls_.load(std::memory_order_relaxed);
  s.planner_errors = planner_errors_.load(std::memory_order_relaxed);
  s.coalesced = coalesced_.load(std::memory_order_relaxed);
  s.stored = stored_.load(std::memory_order_relaxed);
  s.not_stored = not_stored_.load(std::memory_order_relaxed);
  s.stale_served = stale_served_.load(std::memory_order_relaxed);
  s.refreshes = refreshes_.load(std::memory_order_relaxed);
  s.refreshes_skipped = refreshes_skipped_.load(std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  s.inflight = flights_.size();
  return s;
}

}  // namespace plancache::internal
