// Predictions: the server's predictive pre-computation (issue 14;
// docs/architecture.md, "Near-miss reuse"; docs/http_api.md, "Predictive
// pre-computation"). Every interval, and on POST /v1/predict, a pass over
// each lane with `predict = true`:
//
//   lane.history.snapshot (the lane's recent requests, NearMiss::requested)
//     -> predict() (predictor.h: recurring entries about to expire, missing
//        members of context families; each with a confidence and a reason)
//     -> below predict_min_confidence: reported, never run
//     -> its key (the lane's key builder) already tracked by the ledger, or
//        (a family member) already in the neighbour index: skipped
//     -> started, unless predict_max_runs of the lane's predictions run or
//        the planner pool has no spare thread (Planning::has_spare_planner_thread):
//        then dropped (predictions_dropped_busy), never queued; a later pass
//        may start it.
//
// A recurring candidate is refreshed through refresh-ahead
// (Planning::refresh: a background flight, bounded by
// max_background_refreshes too); a family member is planned through the
// ordinary read-through flight (Planning::plan with its PlanKey: single-
// flight, the leader's re-check, incremental planning from its family
// sibling, worth_storing, the lane's TTL), with the prediction as its only
// caller -- a caller asking meanwhile joins that flight. Either runs on a
// planner pool thread; the pass itself on the timer thread or the caller's
// (the handler's background pool), never on an I/O thread.
//
// Ownership: keeps references to the NearMiss, the Planning and the Cache,
// which must outlive it (a copy of the LaneKeys). A flight's completion refers only to
// its NearMissLane (owned by the NearMiss, which outlives the Planning), so
// flights may outlive this object.
// Thread-safety: every method may be called from any thread; passes are
// serialised.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cache/lane_keys.h"
#include "plancache/cache.h"
#include "server/near_miss.h"
#include "server/planning.h"
#include "server/predictor.h"

namespace plancache::internal {

struct PredictionsOptions {
  // Time between two passes of the timer thread (--predict-interval-s).
  // Default: 30 s.
  std::chrono::milliseconds interval{30'000};
  // Requests older than this do not count. Default: 10 minutes.
  int64_t window_ms = 600'000;
  // The predictor's rules. Default: PredictorOptions{} (compose() sets the
  // recurring horizon to twice the interval: an entry expiring before the
  // next pass but one is refreshed now).
  PredictorOptions predictor;
};

// What a pass did with one candidate (POST /v1/predict reports it).
struct PredictionItem {
  std::string ns;
  Prediction prediction;
  std::string key;     // the plan key (hex)
  std::string action;  // "would_compute", "started", "dropped_busy", "below_threshold"
};

class Predictions {
 public:
  // Candidates under the threshold a pass reports per lane, at most.
  static constexpr size_t kMaxBelowReported = 10;

  Predictions(NearMiss& near_miss, Planning& planning, Cache& cache, LaneKeys keys,
              PredictionsOptions options);
  ~Predictions();  // stops the timer thread
  Predictions(const Predictions&) = delete;
  Predictions& operator=(const Predictions&) = delete;

  // Starts the timer thread: a pass every options.interval.
  void start();

  // One pass over every lane with predict = true, or only over `ns`:
  // `dry_run` starts nothing and reports what it would start. Lanes without
  // a planner are passed over.
  std::vector<PredictionItem> run_pass(bool dry_run, std::optional<std::string_view> ns);
  // Whether `ns` is a lane with predict = true.
  bool predicts(std::string_view ns) const;

  // POST /v1/predict's answer: {"dry_run":b,"predictions":[{"namespace",
  // "kind","goal","context","key","confidence","reason","action"}]}.
  static nlohmann::json to_json(const std::vector<PredictionItem>& items, bool dry_run);

 private:
  std::vector<PredictionItem> pass_lane(NearMissLane& lane, bool dry_run);
  // Starts one candidate; returns its action ("started" or "dropped_busy").
  std::string start_one(NearMissLane& lane, const PlanKey& key, const Prediction& p);
  void loop();

  NearMiss& near_miss_;
  Planning& planning_;
  Cache& cache_;
  const LaneKeys keys_;  // a copy: the Runtime's own moves with it
  const PredictionsOptions options_;

  std::mutex pass_mu_;  // held through a pass: passes never overlap

  std::mutex mu_;  // guards stopping_; cv_ signals it
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread timer_;
};

}  // namespace plancache::internal
