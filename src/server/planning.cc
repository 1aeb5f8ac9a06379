#include "server/planning.h"

#include <algorithm>
#include <boost/asio/post.hpp>

#include "server/near_miss_compute.h"
#include "server/planner_events.h"

namespace plancache::internal {
namespace {

// Jobs run on `pool`, counted in `jobs` from post to end (the spare-thread check).
ReadThroughOptions engine_options(const PlanningOptions& options,
                                  std::shared_ptr<const NamespacePolicies> policies,
                                  boost::asio::thread_pool& pool, std::atomic<unsigned>& jobs) {
  ReadThroughOptions o;
  o.executor = [&pool, &jobs](std::function<void()> job) {
    jobs.fetch_add(1, std::memory_order_relaxed);
    boost::asio::post(pool, [&jobs, job = std::move(job)] {
      job();  // the engine's jobs catch what a compute throws
      jobs.fetch_sub(1, std::memory_order_relaxed);
    });
  };
  o.policies = std::move(policies);
  o.refresh_ahead_ms = options.refresh_ahead_ms;
  o.refresh_ahead_min_hits = options.refresh_ahead_min_hits;
  o.max_background_refreshes = options.max_background_refreshes;
  o.store = options.store;
  return o;
}

}  // namespace

Planning::Planning(Cache& cache, std::shared_ptr<const NamespacePolicies> policies,
                   PlanningOptions options)
    : cache_(cache),
      policies_(policies ? std::move(policies) : std::make_shared<const NamespacePolicies>()),
      options_(std::move(options)),
      pool_threads_(std::max(1u, options_.max_concurrent)),
      pool_(pool_threads_),
      store_(cache),
      engine_(store_, cache.clock(), engine_options(options_, policies_, pool_, pool_jobs_)) {}

Planning::~Planning() { stop(std::chrono::milliseconds(0)); }

void Planning::stop(std::chrono::milliseconds grace) {
  engine_.stop(grace, [this] { cancel_planners(); });
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

ComputeFn Planning::compute_for(Planner* planner, std::string_view ns, PlanRequest request) {
  return [planner, ns = std::string(ns), request = std::move(request)]() -> Result<Computed> {
    if (planner == nullptr) {
      return Status::unavailable("no planner configured for namespace '" + ns + "'");
    }
    Result<PlannerAnswer> answer = planner->plan_with_hints(request);
    if (!answer.is_ok()) return answer.status();
    PutOptions options;
    options.priority = answer->priority;
    return Computed{std::make_shared<const Bytes>(std::move(answer->plan)), std::move(options),
                    true};
  };
}

void Planning::plan(const CacheKey& key, PlanRequest request, EntryPtr stale, Callback done) {
  Planner* planner = planner_for(key.ns());
  join(key, planner, compute_for(planner, key.ns(), std::move(request)), std::move(stale),
       std::move(done));
}

void Planning::plan(const PlanKey& key, PlanRequest request, EntryPtr stale, Callback done) {
  NearMissLane* lane =
      options_.near_miss != nullptr ? options_.near_miss->lane(key.key.ns()) : nullptr;
  if (lane == nullptr) return plan(key.key, std::move(request), std::move(stale), std::move(done));
  Planner* planner = planner_for(key.key.ns());
  join(key.key, planner, near_miss_compute(*lane, cache_, planner, key, std::move(request)),
       std::move(stale), std::move(done));
}

void Planning::join(const CacheKey& key, Planner* planner, ComputeFn compute, EntryPtr stale,
                    Callback done) {
  engine_.join(key, observe_planner_runs(options_.events, key, std::move(compute), false),
               std::move(stale),
               [planner, done = std::move(done)](PlanOutcome o) {
                 // The tiers refused the plan as over a bound: the planner's fault.
                 if (o.error.code() == StatusCode::kResourceExhausted && planner != nullptr) {
                   o.error = Status::bad_gateway(planner->describe() +
                                                 " answered a plan too large to store: " +
                                                 o.error.message());
                 }
                 done(std::move(o));
               });
}

bool Planning::refresh(const CacheKey& key, PlanRequest request, Callback done) {
  ComputeFn compute = compute_for(planner_for(key.ns()), key.ns(), std::move(request));
  return engine_.refresh(key, observe_planner_runs(options_.events, key, std::move(compute), true),
                         std::move(done));
}

PlanningStats Planning::stats() const {
  const ReadThroughStats e = engine_.stats();
  PlanningStats s;
  s.planner_calls = e.computes;
  s.planner_errors = e.compute_errors;
  s.coalesced = e.coalesced;
  s.stored = e.stored;
  s.not_stored = e.not_stored;
  s.stale_served = e.stale_served;
  s.refreshes = e.refreshes;
  s.refreshes_skipped = e.refreshes_skipped;
  s.inflight = e.inflight;
  s.leases_granted = e.leases_granted;
  s.leases_completed = e.leases_completed;
  s.leases_expired = e.leases_expired;
  s.leases_released = e.leases_released;
  s.leases_held = e.leases_held;
  return s;
}

}  // namespace plancache::internal
