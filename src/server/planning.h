// Planning: the read-through side of POST /v1/plans — one planner run per
// missing key however many callers ask at once, on a pool of worker threads
// so the I/O threads never wait for a planner.
//
// The handler looks the key up itself (the hit path stays on the I/O
// thread). On a miss it calls plan(): the first caller for a key starts a
// flight (a job on the pool); callers arriving while it runs join it and get
// the same outcome. The job re-checks the cache (a flight that just ended may
// have stored the plan), calls the namespace's planner, stores the plan when
// it took at least the namespace's min compute time, and only then ends the
// flight and hands the outcome to every caller — so a newcomer either joins a
// running flight or finds the stored plan. A caller that disconnects does not
// cancel the flight: the run finishes and is stored for the others.
//
// Staleness (per namespace, NamespacePolicy): plans are stored with a grace
// period of max(stale_while_revalidate_s, stale_if_error_s) past their TTL.
// - stale-while-revalidate: a caller finding a stale plan within that window
//   gets it at once ("stale": true) and one background refresh starts.
// - stale-if-error: when the planner fails and the caller had a stale plan
//   within that window, the stale plan is the answer instead of the error.
// Refresh-ahead: a fresh plan hit at least refresh_ahead_min_hits times in
// the last refresh_ahead_ms of its freshness is recomputed in the background
// before it expires. Background refreshes are flights without callers,
// bounded by max_background_refreshes (more are skipped and counted).
//
// Thread-safety: every method may be called from any thread. Callbacks run
// on a pool thread, without any lock held.
#pragma once

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "plancache/cache.h"
#include "plancache/namespace_policy.h"
#include "planner/planner.h"

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
};

// What one caller of plan() gets.
struct PlanOutcome {
  EntryPtr entry;         // the plan; null when `error` is set
  Status error;           // the planner failure (bad_gateway), or ok
  bool cached = false;    // found in a tier, no planner call for it
  std::string_view tier;  // when cached
  bool stale = false;     // a stale plan served because the planner failed
  bool coalesced = false; // joined another caller's flight
};

struct PlanningStats {
  uint64_t planner_calls = 0;
  uint64_t planner_errors = 0;
  uint64_t coalesced = 0;        // callers that joined a running flight
  uint64_t stored = 0;           // plans stored after a planner call
  uint64_t not_stored = 0;       // below the namespace's min compute time
  uint64_t stale_served = 0;     // stale plans answered (revalidate or error)
  uint64_t refreshes = 0;        // background refreshes started
  uint64_t refreshes_skipped = 0;  // not started: max_background_refreshes busy
  uint64_t inflight = 0;         // flights running now
};

class Planning {
 public:
  using Callback = std::function<void(PlanOutcome)>;

  Planning(Cache& cache, std::shared_ptr<const NamespacePolicies> policies,
           PlanningOptions options);
  // stop(0) unless stop() ran; then waits for the running flights (their
  // callbacks run) and stops the pool.
  ~Planning();
  Planning(const Planning&) = delete;
  Planning& operator=(const Planning&) = delete;

  // The planner for `ns`, or null when none is configured.
  Planner* planner_for(std::string_view ns) const;

  // Plans `key` (a miss for the caller). `stale`: the stale plan the caller
  // found, or null; it is the answer if the planner fails within the
  // namespace's stale_if_error window. REQUIRES: planner_for(key.ns()).
  void plan(const CacheKey& key, PlanRequest request, EntryPtr stale, Callback done);

  // The caller found `entry` fresh: counts the hit for refresh-ahead.
  // Returns true when the caller should start a refresh now (refresh()).
  bool note_hit(const CacheKey& key, const Entry& entry);

  // Starts a background refresh of `key` unless one runs or too many do.
  void refresh(const CacheKey& key, PlanRequest request);

  // The grace period to store plans of `ns` with (PutOptions::stale_grace_ms).
  int64_t stale_grace_ms(std::string_view ns) const;
  // Whether a stale plan of `ns` found at `now_ms` may be served while it is
  // refreshed (stale-while-revalidate window).
  bool may_serve_while_revalidating(std::string_view ns, const Entry& entry, int64_t now_ms) const;

  PlanningStats stats() const;

  // The server is stopping: from now on plan() answers kUnavailable at once
  // and refresh() starts nothing; planner runs still going after `grace` are
  // cancelled (Planner::cancel_all), so their callers get kUnavailable too
  // rather than waiting out the planner timeout. Returns at once; the first
  // call wins.
  void stop(std::chrono::milliseconds grace);

 private:
  struct Flight {
    std::vector<Callback> waiters;
    EntryPtr stale;  // fallback for stale-if-error
    bool background = false;
  };

  // Starts the flight of `key` on the pool. REQUIRES: mu_ held by the caller
  // has inserted `flight`.
  void launch(const CacheKey& key, PlanRequest request, std::shared_ptr<Flight> flight);
  PlanOutcome run_flight(const CacheKey& key, const PlanRequest& request, const Flight& flight);
  PlanOutcome call_planner(const CacheKey& key, const PlanRequest& request, const EntryPtr& stale);

  Cache& cache_;
  const std::shared_ptr<const NamespacePolicies> policies_;
  const PlanningOptions options_;
  boost::asio::thread_pool pool_;

  // Cancels every planner's calls (Planner::cancel_all).
  void cancel_planners();

  // Guards flights_, hot_ and stopping_.
  mutable std::mutex mu_;
  std::condition_variable flights_done_;  // notified when flights_ becomes empty
  bool stopping_ = false;
  std::thread stopper_;  // stop()'s grace timer
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;
  // Refresh-ahead hit counts of plans inside their window, by encoded key.
  std::unordered_map<std::string, uint32_t> hot_;

  std::atomic<unsigned> background_running_{0};
  std::atomic<uint64_t> planner_calls_{0}, planner_errors_{0}, coalesced_{0}, stored_{0},
      not_stored_{0}, stale_served_{0}, refreshes_{0}, refreshes_skipped_{0};
};

}  // namespace plancache::internal
