// observe_planner_runs (planner_events.h).
#include "server/planner_events.h"

#include <chrono>
#include <exception>
#include <string_view>

namespace plancache::internal {
namespace {

// How a planner failure is told: the planners phrase their timeouts
// "timed out after N ms" (src/planner/); everything else is an error.
PlannerOutcome outcome_of(const Status& status) {
  return status.message().find("timed out after") != std::string_view::npos
             ? PlannerOutcome::kTimeout
             : PlannerOutcome::kError;
}

Event finish_event(const Result<Computed>& result, int64_t ms, bool background) {
  Event e;
  e.phase = PlannerPhase::kFinish;
  e.background = background;
  e.ms = ms;
  if (result.is_ok()) {
    e.outcome = PlannerOutcome::kOk;
    // The note of an incremental plan (near_miss_compute.h).
    e.incremental = result->note.find("\"incremental\":true") != std::string::npos;
  } else {
    e.outcome = outcome_of(result.status());
    e.error = result.status().message();
  }
  return e;
}

}  // namespace

ComputeFn observe_planner_runs(EventBus* events, const CacheKey& key, ComputeFn compute,
                               bool background) {
  if (events == nullptr) return compute;
  return [events, key, compute = std::move(compute), background]() -> Result<Computed> {
    if (events->active()) {
      Event start;
      start.phase = PlannerPhase::kStart;
      start.background = background;
      events->publish_planner(key, std::move(start));
    }
    const auto began = std::chrono::steady_clock::now();
    auto elapsed_ms = [began] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::steady_clock::now() - began)
          .count();
    };
    try {
      Result<Computed> result = compute();
      if (events->active()) {
        events->publish_planner(key, finish_event(result, elapsed_ms(), background));
      }
      return result;
    } catch (const std::exception& e) {  // the engine turns it into an internal error
      if (events->active()) {
        const Result<Computed> failed = Status::internal(e.what());
        events->publish_planner(key, finish_event(failed, elapsed_ms(), background));
      }
      throw;
    }
  };
}

}  // namespace plancache::internal
