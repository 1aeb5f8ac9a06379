// Planning: the server's adapter from planners to the read-through engine
// (cache/read_through_engine.h) -- it turns a Planner into the engine's
// compute function and runs the engine on a pool of planner threads, so the
// I/O threads never wait for a planner.
//
// Everything about flights (single-flight, the leader's re-check, the min
// compute time, the stale windows, refresh-ahead, stop) is the engine's;
// this class adds what is the server's: which planner serves a namespace,
// the planner pool, cancelling planner calls on stop, and the 502 for a plan
// the tiers refuse as too large. It exists with no planner configured too:
// the HTTP lease (plan_leases.h) runs its flights on the same engine.
//
// Ownership: keeps a reference to the Cache, which must outlive it; owns its
// planners, its pool and its engine. The destructor cancels what still runs
// (stop(0) unless stop() ran) and waits for every flight's callbacks.
// Thread-safety: every method may be called from any thread. Callbacks run
// on a pool thread (or at once when stopping), without any lock held.
#pragma once

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "cache/read_through_engine.h"
#include "plancache/cache.h"
#include "plancache/key_builder.h"
#include "plancache/namespace_policy.h"
#include "planner/planner.h"
#include "server/event_bus.h"
#include "server/near_miss.h"

namespace plancache::internal {

struct PlanningOptions {
  // Server-wide planner; null = none (namespaces may have their own).
  std::shared_ptr<Planner> planner;
  // Per-namespace planners (ServerConfig::namespace_planners).
  std::map<std::string, std::shared_ptr<Planner>, std::less<>> namespace_planners;
  // Planner calls running at once (pool threads). Default: 8.
  unsigned max_concurrent = 8;
  // Refresh-ahead window before a plan's TTL ends (capped at half its TTL);
  // 0 = no refresh-ahead. Default: 60 s.
  int64_t refresh_ahead_ms = 60'000;
  // Hits within the window that make a plan hot enough to refresh. Default: 3.
  uint32_t refresh_ahead_min_hits = 3;
  // Background refreshes (refresh-ahead and stale-while-revalidate) running
  // at once; more are skipped. Default: 2.
  unsigned max_background_refreshes = 2;
  // false: nothing is stored (the server's cache_enabled). Default: true.
  bool store = true;
  // Near-miss reuse: the lanes whose flights plan incrementally or in
  // shadow mode (near_miss_compute.h); must outlive the Planning.
  // Default: null (none).
  NearMiss* near_miss = nullptr;
  // The event stream: every flight's planner run is published on it
  // (planner_events.h); must outlive the Planning. Default: null (none).
  EventBus* events = nullptr;
};

// What one caller of plan() gets (the engine's outcome).
using PlanOutcome = ReadThroughOutcome;

struct PlanningStats {
  uint64_t planner_calls = 0;
  uint64_t planner_errors = 0;
  uint64_t coalesced = 0;        // callers that joined a running flight
  uint64_t stored = 0;           // plans stored after a planner call
  uint64_t not_stored = 0;       // below the namespace's min compute time
  uint64_t stale_served = 0;     // stale plans answered for a failed planner
  uint64_t refreshes = 0;        // background refreshes started
  uint64_t refreshes_skipped = 0;  // not started: max_background_refreshes busy
  uint64_t inflight = 0;         // flights running now
  // POST /v1/plans/lease (ReadThroughStats::leases_*).
  uint64_t leases_granted = 0;
  uint64_t leases_completed = 0;
  uint64_t leases_expired = 0;
  uint64_t leases_released = 0;
  uint64_t leases_held = 0;
};

class Planning {
 public:
  using Callback = std::function<void(PlanOutcome)>;

  // `policies` null = the presets.
  Planning(Cache& cache, std::shared_ptr<const NamespacePolicies> policies,
           PlanningOptions options);
  ~Planning();
  Planning(const Planning&) = delete;
  Planning& operator=(const Planning&) = delete;

  // The planner for `ns`, or null when none is configured.
  Planner* planner_for(std::string_view ns) const;
  // Whether any lane has a planner (else only leases use the engine).
  bool has_planner() const {
    return options_.planner != nullptr || !options_.namespace_planners.empty();
  }
  // The engine, for callers that compute themselves (PlanLeases).
  ReadThroughEngine& engine() { return engine_; }

  // Plans `key` (a miss for the caller): ReadThroughEngine::join with the
  // namespace's planner. REQUIRES: planner_for(key.ns()).
  void plan(const CacheKey& key, PlanRequest request, EntryPtr stale, Callback done);
  // The same for a plan key; in a lane with near-miss reuse the flight's
  // compute is near_miss_compute (incremental planning, shadow mode).
  void plan(const PlanKey& key, PlanRequest request, EntryPtr stale, Callback done);
  // ReadThroughEngine::note_hit / refresh / stale_grace_ms /
  // may_serve_while_revalidating.
  bool note_hit(const CacheKey& key, const Entry& entry) { return engine_.note_hit(key, entry); }
  // Returns whether the refresh started; `done` as ReadThroughEngine::refresh.
  bool refresh(const CacheKey& key, PlanRequest request, Callback done = {});
  // Whether background work (predictions.h) may take a planner thread now:
  // one is free beyond one kept for callers (jobs queued or running on the
  // pool + 1 < max_concurrent). Work that finds none is dropped, not queued,
  // so a caller never waits behind it for a thread it could have had.
  bool has_spare_planner_thread() const {
    return pool_jobs_.load(std::memory_order_relaxed) + 1 < pool_threads_;
  }
  int64_t stale_grace_ms(std::string_view ns) const { return engine_.stale_grace_ms(ns); }
  bool may_serve_while_revalidating(std::string_view ns, const Entry& entry,
                                    int64_t now_ms) const {
    return engine_.may_serve_while_revalidating(ns, entry, now_ms);
  }

  PlanningStats stats() const;

  // The server is stopping (ReadThroughEngine::stop): planner runs still
  // going after `grace` are cancelled (Planner::cancel_all), so their
  // callers get kUnavailable rather than waiting out the planner timeout.
  void stop(std::chrono::milliseconds grace);

 private:
  // The compute function of one planner call.
  static ComputeFn compute_for(Planner* planner, std::string_view ns, PlanRequest request);
  // ReadThroughEngine::join with `compute`, the planner blamed for a plan
  // too large to store.
  void join(const CacheKey& key, Planner* planner, ComputeFn compute, EntryPtr stale,
            Callback done);
  void cancel_planners();

  Cache& cache_;
  const std::shared_ptr<const NamespacePolicies> policies_;
  const PlanningOptions options_;
  const unsigned pool_threads_;
  std::atomic<unsigned> pool_jobs_{0};  // jobs posted to pool_ and not yet done
  boost::asio::thread_pool pool_;
  CacheStore store_;
  ReadThroughEngine engine_;  // last: destroyed first, while pool_ still runs
};

}  // namespace plancache::internal
