// Incremental planning and shadow comparison inside a read-through flight
// (near_miss_compute.h has the protocol). nlohmann-json throws on a patch
// that does not apply; every such exception is caught here and becomes a
// fallback to a full planner call, never an error of the flight.
#include "server/near_miss_compute.h"

#include <algorithm>
#include <exception>

namespace plancache::internal {
namespace {

using nlohmann::json;

json parse_or_discarded(std::string_view text) {
  return json::parse(text, nullptr, /*allow_exceptions=*/false);
}

// The same JSON kind: the plan of a lane that stores objects stays an object.
bool same_kind(const json& a, const json& b) {
  return a.is_number() ? b.is_number() : a.type() == b.type();
}

bool is_patch_answer(const json& answer) {
  return answer.is_object() && answer.size() == 1 && answer.contains("patch") &&
         answer["patch"].is_array();
}

// What an incremental call produced, for the answer and the counters.
struct IncrementalRun {
  PlannerAnswer answer;
  std::string base_key;
  int64_t base_compute_ms = 0;
};

// One incremental planner call for `key`, or nullopt when there is no
// usable base or the call could not be used (counted as a fallback).
std::optional<IncrementalRun> try_incremental(NearMissLane& lane, Cache& cache, Planner& planner,
                                              const PlanKey& key, const PlanRequest& request) {
  if (!lane.policy.incremental || !planner.accepts_incremental()) return std::nullopt;
  std::optional<ContextNeighbour> near =
      lane.index.nearest_by_context(key.normalized_goal, key.canonical_context);
  if (!near || near->impact > lane.policy.max_change_impact) return std::nullopt;
  const Lookup base = fetch_neighbour(cache, lane, near->entry.key, GetOptions{}, false);
  if (!base.hit()) return std::nullopt;  // invalidated or evicted: never used
  Result<std::string> member = incremental_member(*near, *base.entry->value);
  if (!member.is_ok()) return std::nullopt;
  PlanRequest incremental = request;
  incremental.incremental_json = std::move(member).value();
  Result<PlannerAnswer> answer = planner.plan_with_hints(incremental);
  Result<std::string> plan = answer.is_ok()
                                 ? apply_incremental_answer(*base.entry->value, answer->plan)
                                 : Result<std::string>(answer.status());
  if (!plan.is_ok()) {
    lane.counters.incremental_fallbacks.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  answer->plan = std::move(plan).value();
  return IncrementalRun{std::move(answer).value(), near->entry.key, base.entry->meta.compute_ms};
}

// Shadow mode: would the similar-goal lookup have served the right plan?
void shadow_compare(NearMissLane& lane, Cache& cache, const PlanKey& key, std::string_view plan) {
  const SimilarResult result = lane.similar(key, std::nullopt);
  if (!result.served() || !result.best) return lane.count_unserved(result);
  const Lookup neighbour = fetch_neighbour(cache, lane, result.best->key, GetOptions{}, true);
  if (!neighbour.hit()) return;
  const json theirs = parse_or_discarded(*neighbour.entry->value);
  const bool right = !theirs.is_discarded() && theirs == parse_or_discarded(plan);
  (right ? lane.counters.shadow_right : lane.counters.shadow_wrong)
      .fetch_add(1, std::memory_order_relaxed);
}

std::string incremental_note(const IncrementalRun& run, int64_t saved_ms) {
  std::string note = R"(,"incremental":true,"base_key":")";
  note += run.base_key;  // hex digits: no escaping
  note += R"(","planner_ms_saved":)";
  note += std::to_string(saved_ms);
  return note;
}

Result<Computed> compute(NearMissLane& lane, Cache& cache, Planner* planner, const PlanKey& key,
                         const PlanRequest& request) {
  if (planner == nullptr) {
    return Status::unavailable("no planner configured for namespace '" + lane.ns + "'");
  }
  const Clock& clock = cache.clock();
  const int64_t start_ns = clock.monotonic_ns();
  std::optional<IncrementalRun> run = try_incremental(lane, cache, *planner, key, request);
  PlannerAnswer answer;
  if (run) {
    answer = std::move(run->answer);
  } else {
    Result<PlannerAnswer> full = planner->plan_with_hints(request);
    if (!full.is_ok()) return full.status();
    answer = std::move(full).value();
  }
  const int64_t elapsed_ms = std::max<int64_t>(0, (clock.monotonic_ns() - start_ns) / 1'000'000);
  if (lane.policy.similar_shadow) shadow_compare(lane, cache, key, answer.plan);
  Computed computed;
  computed.options.priority = answer.priority;
  computed.options.compute_ms = static_cast<uint32_t>(std::min<int64_t>(elapsed_ms, UINT32_MAX));
  if (run) {
    const int64_t saved = std::max<int64_t>(0, run->base_compute_ms - elapsed_ms);
    lane.counters.incremental_computes.fetch_add(1, std::memory_order_relaxed);
    lane.counters.planner_ms_saved_incremental.fetch_add(static_cast<uint64_t>(saved),
                                                         std::memory_order_relaxed);
    computed.note = incremental_note(*run, saved);
  }
  computed.value = std::make_shared<const Bytes>(std::move(answer.plan));
  return computed;
}

}  // namespace

Result<std::string> incremental_member(const ContextNeighbour& neighbour,
                                       std::string_view base_plan) {
  json previous_plan = parse_or_discarded(base_plan);
  if (previous_plan.is_discarded()) {
    return Status::invalid_argument("the previous plan is not JSON");
  }
  json previous_context = parse_or_discarded(neighbour.entry.context);
  if (previous_context.is_discarded()) previous_context = nullptr;
  json member = {{"previous",
                  {{"goal", neighbour.entry.goal},
                   {"context", std::move(previous_context)},
                   {"plan", std::move(previous_plan)}}},
                 {"changes", neighbour.patch.is_array() ? neighbour.patch : json::array()},
                 {"impact", neighbour.impact}};
  return member.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::string> apply_incremental_answer(std::string_view base_plan, std::string_view answer) {
  const json parsed = parse_or_discarded(answer);
  if (parsed.is_discarded()) return Status::invalid_argument("the answer is not JSON");
  if (!is_patch_answer(parsed)) return std::string(answer);  // a whole plan
  const json base = parse_or_discarded(base_plan);
  if (base.is_discarded()) return Status::invalid_argument("the previous plan is not JSON");
  json patched;
  try {
    patched = base.patch(parsed["patch"]);
  } catch (const std::exception& e) {
    return Status::invalid_argument(std::string("the patch does not apply: ") + e.what());
  }
  if (!same_kind(base, patched)) {
    return Status::invalid_argument("the patched plan is not of the previous plan's JSON kind");
  }
  return patched.dump(-1, ' ', false, json::error_handler_t::replace);
}

ComputeFn near_miss_compute(NearMissLane& lane, Cache& cache, Planner* planner, PlanKey key,
                            PlanRequest request) {
  return [&lane, &cache, planner, key = std::move(key),
          request = std::move(request)]() -> Result<Computed> {
    return compute(lane, cache, planner, key, request);
  };
}

}  // namespace plancache::internal
