// Predictor: which plans are worth computing before anyone asks for them
// (issue 14, predictive pre-computation; docs/architecture.md, "Near-miss
// reuse"). Pure logic over one lane's recent requests (RequestHistory's
// snapshot): it proposes, with a confidence in [0, 1] and a reason, and
// the caller (predictions.h) decides what to run.
//
// Two kinds of candidate:
//
// Recurring -- an entry asked r >= min_requests times inside the history
// window whose freshness ends within horizon_ms and half its TTL (as
// refresh-ahead's window), or has ended: refreshed through refresh-ahead
// before it expires. Confidence 1 - e^-r: the chance
// of one more request in the next window, were requests a Poisson stream
// at the window's rate (r = 2: 0.86, 3: 0.95).
//
// Family -- for one goal, the asked contexts that are objects equal except
// at one top-level member f (with a value on both sides) form a family over
// f, with the values A of f asked for the goal. Each other value v of f
// seen in the lane (any goal's asked context having f = v) is a missing
// member -- the family's context with f = v -- when at least min_support
// other goals were asked with f = v and f takes at most max_values values
// in the lane (a field with many values is an identifier, not a variant).
// Only a goal's open families are completed: one is open while no context
// of the goal with another rest (for f) has been asked since its latest
// request -- a release still on its way; a superseded one is settled.
// Its confidence is the completion rate of such families in the lane: of
// the c other settled-or-complete families over f (other goals', and this
// goal's for other contexts) that have every value in A, cv have v too (an
// open family without v may still get it: it counts neither way); shrunk
// toward the prior p0 = |A| / (|A| + missing values) (asked members over
// all values) by one pseudo-observation:
//     confidence = (cv + p0) / (c + 1).
// Two of {dev, staging, prod} asked, two other families with all three:
// (2 + 2/3) / 3 = 0.89; a third, superseded family with dev and staging
// only: (2 + 2/3) / 4 = 0.67.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/predict_history.h"

namespace plancache::internal {

struct PredictorOptions {
  // Recurring: freshness ending this soon (ms from now) makes a candidate.
  // Default: 60 s.
  int64_t horizon_ms = 60'000;
  // Recurring: requests inside the window a candidate needs. Default: 2.
  uint32_t min_requests = 2;
  // Family: other goals of the lane asked with the missing value. Default: 2.
  size_t min_support = 2;
  // Family: a member taking more values than this in the lane is not a
  // family's field. Default: 16.
  size_t max_values = 16;
  // Candidates returned, highest confidence first. Default: 64.
  size_t max_candidates = 64;
};

enum class PredictionKind : uint8_t { kRecurring, kFamily };

// "recurring", "family".
std::string_view prediction_kind_name(PredictionKind kind);

struct Prediction {
  PredictionKind kind = PredictionKind::kRecurring;
  // Recurring: the entry's key (hex). Family: "" (the caller builds the
  // key of goal + context with the lane's key builder).
  std::string key;
  std::string goal;     // normalised goal
  std::string context;  // canonical JSON text
  double confidence = 0;
  std::string reason;  // for people: why this was proposed
};

// Every candidate of `history` (a snapshot taken at `now_ms`), whatever
// its confidence, highest confidence first (ties: goal, then context), at
// most options.max_candidates. No two are for the same goal and context.
std::vector<Prediction> predict(const std::vector<RequestRecord>& history,
                                const PredictorOptions& options, int64_t now_ms);

}  // namespace plancache::internal
