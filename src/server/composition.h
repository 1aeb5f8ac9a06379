// The composition root of `plancache serve`: the one place that turns a
// configuration into the running objects of the cache side — the lane
// policies, the key builder, the Cache (L1 with one memory lane per
// configured namespace, the disk tier as L2 with its options, write-behind,
// the wipe of non-persistent namespaces, the shared Redis tier) and the
// read-through planning. A new tier is added here and nowhere else; everything
// downstream (Service, the handlers) receives the pieces it uses.
//
// Ownership: the caller owns the Runtime; it must outlive every object
// given references into it (Service, handlers, the maintenance thread).
// Thread-safety: compose() is a plain function, called once at start-up;
// the objects of a Runtime are thread-safe (Cache, Planning) or immutable.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <memory>

#include "cache/lane_keys.h"
#include "plancache/cache.h"
#include "plancache/key_builder.h"
#include "plancache/namespace_policy.h"
#include "plancache/status.h"
#include "server/config.h"
#include "server/event_bus.h"
#include "server/access_log.h"
#include "server/memory_watchdog.h"
#include "server/near_miss.h"
#include "server/plan_leases.h"
#include "server/planning.h"
#include "server/predictions.h"
#include "server/stats_history.h"

namespace plancache::internal {

struct Runtime {
  // Every lane's policy; the default lane's is the one truth for the
  // server-wide l1_* / default_ttl_s / min_compute_ms settings. Never null.
  std::shared_ptr<const NamespacePolicies> policies;
  // Each lane's key builder: the server-wide hash and ignored fields, with
  // the lane's key rules (NamespacePolicy::keys).
  LaneKeys keys;
  // GET /v1/events' bus and L1's one removal listener (the near-miss
  // indexes hear of removals through it). Never null. First: L1, the
  // cache and planning publish into it, so it outlives them.
  std::unique_ptr<EventBus> events;
  // Near-miss reuse: a neighbour index per lane that enables it. Never
  // null. Declared before `cache`: the bus's removal sink points at it.
  std::unique_ptr<NearMiss> near_miss;
  // Never null: a PublishingCache (put events) over the tiers.
  std::unique_ptr<Cache> cache;
  // The memory-pressure watchdog over the L1 lanes, its thread running;
  // null with --memory-source off. Declared after `cache`: stopped before
  // the lanes it sizes go.
  std::unique_ptr<MemoryWatchdog> memory_watchdog;
  // Threads for requests that may wait on the shared tier's network calls
  // (an I/O thread never does); null without a shared tier. Declared after
  // `cache`: joined first, so no call outlives the cache.
  std::unique_ptr<boost::asio::thread_pool> shared_calls;
  // Read-through planning (planners may be none: Planning::has_planner).
  // Never null. Declared after `cache`: destroyed first, so its flights end
  // before the cache goes.
  std::unique_ptr<Planning> planning;
  // POST /v1/plans/lease's waiting room, over planning's engine. Never
  // null. Declared after `planning`: destroyed first.
  std::unique_ptr<PlanLeases> leases;
  // Predictive pre-computation, its timer thread running; null when no
  // lane has predict = true. Declared after `planning`: stopped first.
  std::unique_ptr<Predictions> predictions;
  // GET /v1/stats/history's ring of snapshots, with its timer thread
  // (one snapshot taken at start). Never null. Declared after `planning`
  // and `cache`: stopped before what it reads goes.
  std::unique_ptr<StatsHistory> stats_history;
  // --access-log; null when off. Destroyed after `background`'s jobs.
  std::unique_ptr<AccessLog> access_log;
  // One thread for slow read-only jobs (GET /v1/advice). Never null. Last:
  // joined first, so no job outlives what it reads.
  std::unique_ptr<boost::asio::thread_pool> background;
};

// Builds the Runtime of `config`. config.namespaces may be null (an
// embedded configuration): the policies are then derived from the
// server-wide fields (effective_namespaces).
// Errors: invalid_argument for a bad hash name, namespace policy or
// memory-tier bounds, or a bad planner setting (make_planning); the disk
// tier's errors (new_disk_tier), prefixed with the flag to blame.
Result<Runtime> compose(const server::ServerConfig& config);

}  // namespace plancache::internal
