// Predictions: the passes and how a candidate is started (predictions.h).
//
// Invariants:
// - A started prediction holds one of its lane's predict_max_runs slots
//   (predictions_running) from start until its flight's completion; the
//   completion gives it back whatever the outcome, and so does a start that
//   did not happen (a refresh the engine refused).
// - The ledger tracks a key from start until its plan is used, wasted or
//   not stored; a tracked key is never started again, so a slow flight is
//   not doubled by the next pass.
// - Nothing here waits for a planner: a pass only posts flights.
#include "server/predictions.h"

#include "core/key_builder_internal.h"

namespace plancache::internal {
namespace {

using nlohmann::json;

Result<PlanKey> key_of(const LaneKeys& keys, const std::string& ns, const Prediction& p) {
  const json context = json::parse(p.context, nullptr, /*allow_exceptions=*/false);
  if (context.is_discarded()) return Status::internal("a prediction's context is not JSON");
  return plan_key_from_json(keys.of(ns), ns, p.goal, context);
}

// Whether a family member's plan is already stored (a client's PUT, say):
// the index knows the lane's stored keys (a superset, at worst a skip).
bool indexed(const NearMissLane& lane, const PlanKey& key) {
  for (const Neighbour& n : lane.index.same_goal(key.normalized_goal, "", 1024)) {
    if (n.key == key.key.id()) return true;
  }
  return false;
}

}  // namespace

Predictions::Predictions(NearMiss& near_miss, Planning& planning, Cache& cache, LaneKeys keys,
                         PredictionsOptions options)
    : near_miss_(near_miss),
      planning_(planning),
      cache_(cache),
      keys_(std::move(keys)),
      options_(std::move(options)) {}

Predictions::~Predictions() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (timer_.joinable()) timer_.join();
}

void Predictions::start() {
  timer_ = std::thread([this] { loop(); });
}

void Predictions::loop() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, options_.interval, [this] { return stopping_; })) {
    lock.unlock();
    run_pass(/*dry_run=*/false, std::nullopt);
    lock.lock();
  }
}

bool Predictions::predicts(std::string_view ns) const {
  const NearMissLane* lane = near_miss_.lane(ns);
  return lane != nullptr && lane->policy.predict;
}

std::vector<PredictionItem> Predictions::run_pass(bool dry_run,
                                                  std::optional<std::string_view> ns) {
  std::lock_guard pass(pass_mu_);
  std::vector<PredictionItem> items;
  for (const auto& [name, lane] : near_miss_.lanes()) {
    if (!lane->policy.predict || (ns && *ns != name)) continue;
    if (planning_.planner_for(name) == nullptr) continue;
    std::vector<PredictionItem> more = pass_lane(*lane, dry_run);
    items.insert(items.end(), std::make_move_iterator(more.begin()),
                 std::make_move_iterator(more.end()));
  }
  return items;
}

std::vector<PredictionItem> Predictions::pass_lane(NearMissLane& lane, bool dry_run) {
  const int64_t now = cache_.clock().now_ms();
  std::vector<Prediction> candidates =
      predict(lane.history.snapshot(now, options_.window_ms), options_.predictor, now);
  std::vector<PredictionItem> items;
  size_t below = 0;
  for (Prediction& p : candidates) {
    Result<PlanKey> key = key_of(keys_, lane.ns, p);
    if (!key.is_ok()) continue;
    const std::string hex(key->key.id());
    if (p.confidence < lane.policy.predict_min_confidence) {
      if (below++ < kMaxBelowReported) {
        items.push_back({lane.ns, std::move(p), hex, "below_threshold"});
      }
      continue;
    }
    if (lane.ledger.tracked(hex)) continue;  // running, or waiting for its first use
    if (p.kind == PredictionKind::kFamily && indexed(lane, *key)) continue;
    std::string action = dry_run ? "would_compute" : start_one(lane, *key, p);
    items.push_back({lane.ns, std::move(p), hex, std::move(action)});
  }
  return items;
}

std::string Predictions::start_one(NearMissLane& lane, const PlanKey& key, const Prediction& p) {
  NearMissCounters& c = lane.counters;
  if (lane.predictions_running.load(std::memory_order_relaxed) >= lane.policy.predict_max_runs ||
      !planning_.has_spare_planner_thread()) {
    c.predictions_dropped_busy.fetch_add(1, std::memory_order_relaxed);
    return "dropped_busy";
  }
  const std::string hex(key.key.id());
  lane.predictions_running.fetch_add(1, std::memory_order_relaxed);
  lane.ledger.started(hex, cache_.clock().now_ms());
  PlanRequest request;
  request.goal = key.normalized_goal;
  request.context_json = key.canonical_context;
  request.ns = lane.ns;
  const bool family = p.kind == PredictionKind::kFamily;
  auto done = [&lane, near_miss = &near_miss_, key, family](PlanOutcome o) {
    // A family member's flight is ours only when we led it (not coalesced).
    const bool stored = o.stored && (!family || !o.coalesced);
    lane.ledger.finished(key.key.id(), stored);
    if (stored && family) near_miss->stored(key, o.entry->meta.compute_ms);
    lane.predictions_running.fetch_sub(1, std::memory_order_relaxed);
  };
  if (family) {
    planning_.plan(key, std::move(request), nullptr, std::move(done));
  } else {
    if (!planning_.refresh(key.key, std::move(request), std::move(done))) {
      lane.ledger.finished(hex, false);
      lane.predictions_running.fetch_sub(1, std::memory_order_relaxed);
      c.predictions_dropped_busy.fetch_add(1, std::memory_order_relaxed);
      return "dropped_busy";
    }
    lane.history.forget_freshness(hex);  // known again at the next hit
  }
  c.predictions_started.fetch_add(1, std::memory_order_relaxed);
  return "started";
}

json Predictions::to_json(const std::vector<PredictionItem>& items, bool dry_run) {
  json list = json::array();
  for (const PredictionItem& item : items) {
    const Prediction& p = item.prediction;
    json context = json::parse(p.context, nullptr, /*allow_exceptions=*/false);
    list.push_back({{"namespace", item.ns},
                    {"kind", prediction_kind_name(p.kind)},
                    {"goal", p.goal},
                    {"context", context.is_discarded() ? json(nullptr) : std::move(context)},
                    {"key", item.key},
                    {"confidence", p.confidence},
                    {"reason", p.reason},
                    {"action", item.action}});
  }
  return {{"dry_run", dry_run}, {"predictions", std::move(list)}};
}

}  // namespace plancache::internal
