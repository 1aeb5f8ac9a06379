// The planner events of the event stream (event_bus.h): a read-through
// flight's compute function, wrapped so that its run is published as
// `planner` events -- phase "start" when the planner is called (after the
// flight's re-check missed), phase "finish" with the duration, the outcome
// (ok, error, timeout: the planner's "timed out after" failures) and
// whether the plan was made incrementally. Used by Planning for every
// flight it starts (requests, background refreshes, predictions).
//
// Thread-safety: the wrapper runs where the compute runs (a planner pool
// thread); publishing never blocks (EventBus).
#pragma once

#include "plancache/cache.h"
#include "server/event_bus.h"

namespace plancache::internal {

// `compute` itself when `events` is null; otherwise `compute` publishing
// its run as the planner events of `key` (`background`: no caller waits).
// REQUIRES: `events` outlives the returned function.
ComputeFn observe_planner_runs(EventBus* events, const CacheKey& key, ComputeFn compute,
                               bool background);

}  // namespace plancache::internal
