// Builds the read-through side of the server from its configuration: the
// server-wide planner (--planner-url or --planner-cmd), one planner per
// namespace that names its own (planner_url / planner_cmd in its
// [namespaces.<name>] table), and the Planning that runs them.
//
// Thread-safety: plain functions, called once at start-up.
#pragma once

#include <memory>

#include "plancache/cache.h"
#include "plancache/status.h"
#include "server/config.h"
#include "server/planning.h"

namespace plancache::internal {

// Planning with the configured planners -- none is fine: POST /v1/plans then
// answers 503 on a miss, and leases still run on its engine. Errors: invalid_argument naming the setting for a
// bad planner URL, both a URL and a command for the same scope.
// `near_miss`: the lanes with near-miss reuse (PlanningOptions::near_miss);
// `events`: where planner runs are published (PlanningOptions::events);
// null = none.
Result<std::unique_ptr<Planning>> make_planning(const server::ServerConfig& config, Cache& cache,
                                                NearMiss* near_miss = nullptr,
                                                EventBus* events = nullptr);

}  // namespace plancache::internal
