// The compute function of a read-through flight in a lane with near-miss
// reuse (Planning::plan with a PlanKey; docs/http_api.md, "The incremental
// planner protocol"). It runs inside the one flight of the missed key, so
// single-flight holds as for any compute:
//
//  1. Incremental planning, when the lane has `incremental = true` and the
//     planner accepts_incremental(): the same-goal entry with the closest
//     context (NeighbourIndex::nearest_by_context), if its change impact is
//     at most the lane's max_change_impact and its plan is still in the
//     cache (fetched: an invalidated base is never used), is sent to the
//     planner as the request's "incremental" member. The answer is a whole
//     plan, or {"patch":[RFC 6902 operations on the previous plan]}, applied
//     here. A failed call, a patch that does not apply or a result of
//     another JSON kind than the previous plan falls back to a full call.
//  2. Otherwise (or after a fallback) the planner is called as today.
//  3. Shadow mode (similar_shadow): the plan is compared with the plan a
//     similar-goal lookup would have served; right or wrong is counted.
//
// The value is stored by the engine like any computed plan (worth_storing,
// the lane's TTL), under the missed key. Computed::note carries the answer's
// `,"incremental":true,"base_key":"<hex>","planner_ms_saved":N` members.
//
// Thread-safety: the compute function may run on any thread; it takes no
// lock of its own and calls the planner with none held.
#pragma once

#include <string>
#include <string_view>

#include "neighbours/neighbour_index.h"
#include "plancache/cache.h"
#include "plancache/key_builder.h"
#include "planner/planner.h"
#include "server/near_miss.h"

namespace plancache::internal {

// REQUIRES: `lane` and `cache` outlive every run of the function.
ComputeFn near_miss_compute(NearMissLane& lane, Cache& cache, Planner* planner, PlanKey key,
                            PlanRequest request);

// The request's "incremental" member (JSON text) for the base `neighbour`
// whose plan is `base_plan`:
// {"previous":{"goal","context","plan"},"changes":[...],"impact":x}.
// Errors: invalid_argument when the base plan is not JSON.
Result<std::string> incremental_member(const ContextNeighbour& neighbour,
                                       std::string_view base_plan);

// The plan an incremental answer makes: {"patch":[...]} (an object whose
// only member is an array "patch") applied to `base_plan`, or any other
// answer as the whole plan. Both compact JSON text.
// Errors: invalid_argument when the patch does not apply or its result is
// not of the base plan's JSON kind (object, array, string, number, ...).
Result<std::string> apply_incremental_answer(std::string_view base_plan, std::string_view answer);

}  // namespace plancache::internal
