// The near-miss figures of every lane that has near-miss reuse, as the
// "near_miss" object of its namespace in GET /v1/stats and as the
// plancache_near_miss_* families of GET /metrics (one set of rows feeds
// both, so the two renderings always agree).
#include <vector>

#include "server/near_miss.h"

namespace plancache::internal {
namespace {

using nlohmann::json;

uint64_t load(const std::atomic<uint64_t>& counter) {
  return counter.load(std::memory_order_relaxed);
}

// The plain counters of a lane: (name in /v1/stats, value).
std::vector<std::pair<const char*, uint64_t>> plain_counters(const NearMissCounters& c) {
  return {{"exact_hits", load(c.exact_hits)},
          {"similar_hits", load(c.similar_hits)},
          {"shadow_right", load(c.shadow_right)},
          {"shadow_wrong", load(c.shadow_wrong)},
          {"incremental_computes", load(c.incremental_computes)},
          {"incremental_fallbacks", load(c.incremental_fallbacks)},
          {"planner_ms_saved_incremental", load(c.planner_ms_saved_incremental)},
          {"planner_ms_saved_similar", load(c.planner_ms_saved_similar)},
          {"predictions_started", load(c.predictions_started)},
          {"predictions_used", load(c.predictions_used)},
          {"predictions_wasted", load(c.predictions_wasted)},
          {"predictions_dropped_busy", load(c.predictions_dropped_busy)}};
}

// Similar-goal lookups that did not serve, by decision name, and the
// neighbours that were gone.
std::vector<std::pair<std::string, uint64_t>> misses(const NearMissCounters& c) {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (size_t i = 0; i < kSimilarDecisionCount; ++i) {
    const auto decision = static_cast<SimilarDecision>(i);
    if (decision == SimilarDecision::kServe) continue;
    out.emplace_back(std::string(similar_decision_name(decision)), load(c.similar_misses[i]));
  }
  out.emplace_back("neighbour_gone", load(c.neighbour_gone));
  return out;
}

std::vector<std::pair<std::string, uint64_t>> vetoes(const NearMissCounters& c) {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (VetoReason reason : all_veto_reasons()) {
    out.emplace_back(std::string(veto_reason_name(reason)),
                     load(c.vetoes[static_cast<size_t>(reason)]));
  }
  return out;
}

json policy_json(const NearMissLane& lane) {
  const NearMissPolicy& p = lane.policy;
  return {{"incremental", p.incremental},
          {"max_change_impact", p.max_change_impact},
          {"similar_goal_min_score",
           p.similar() ? json(lane.similar_options(std::nullopt).min_score) : json(nullptr)},
          {"similar_hard_fields", p.similar_hard_fields},
          {"similar_shadow", p.similar_shadow},
          {"predict", p.predict},
          {"predict_min_confidence", p.predict_min_confidence},
          {"predict_max_runs", p.predict_max_runs}};
}

json lane_json(const NearMissLane& lane) {
  json out = json::object();
  for (const auto& [name, value] : plain_counters(lane.counters)) out[name] = value;
  json& by_decision = out["similar_misses"] = json::object();
  for (const auto& [name, value] : misses(lane.counters)) by_decision[name] = value;
  json& by_reason = out["vetoes"] = json::object();
  for (const auto& [name, value] : vetoes(lane.counters)) by_reason[name] = value;
  const NeighbourIndexStats index = lane.index.stats();
  out["index"] = {{"entries", index.entries},
                  {"bytes", index.memory_bytes},
                  {"terms", index.terms},
                  {"dropped", index.dropped}};
  if (lane.policy.predict) {
    out["predict"] = {{"running", lane.predictions_running.load(std::memory_order_relaxed)},
                      {"history_keys", lane.history.size()},
                      {"tracked", lane.ledger.size()}};
  }
  out["policy"] = policy_json(lane);
  return out;
}

// Prometheus text: one family at a time, samples labelled by namespace
// (names are [A-Za-z0-9_.-]: nothing to escape).
class Families {
 public:
  void family(const std::string& name, const char* type, const char* help) {
    name_ = "plancache_near_miss_" + name;
    out_ += "# HELP " + name_ + " " + help + "\n# TYPE " + name_ + " " + type + "\n";
  }
  void sample(const NearMissLane& lane, const std::string& extra_label, const std::string& value) {
    out_ += name_ + "{namespace=\"" + lane.ns + "\"" + extra_label + "} " + value + "\n";
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
  std::string name_;
};

struct CounterFamily {
  const char* name;  // without plancache_near_miss_
  const char* help;
  std::atomic<uint64_t> NearMissCounters::*member;
};

constexpr CounterFamily kCounterFamilies[] = {
    {"exact_hits_total", "Plan lookups answered by the exact key in a near-miss lane.",
     &NearMissCounters::exact_hits},
    {"similar_hits_total", "Misses answered with the plan of a similar goal.",
     &NearMissCounters::similar_hits},
    {"shadow_right_total", "Shadow mode: computed plans equal to the similar goal's plan.",
     &NearMissCounters::shadow_right},
    {"shadow_wrong_total", "Shadow mode: computed plans that differ from the similar goal's plan.",
     &NearMissCounters::shadow_wrong},
    {"incremental_computes_total", "Plans made by an incremental planner call.",
     &NearMissCounters::incremental_computes},
    {"incremental_fallbacks_total",
     "Incremental planner calls given up for a full one (bad patch or failure).",
     &NearMissCounters::incremental_fallbacks},
    {"predictions_started_total", "Predictions: background planner runs started.",
     &NearMissCounters::predictions_started},
    {"predictions_used_total", "Predictions whose plan a caller then got (a hit or a joined run).",
     &NearMissCounters::predictions_used},
    {"predictions_wasted_total", "Predicted plans evicted or expired before any caller asked.",
     &NearMissCounters::predictions_wasted},
    {"predictions_dropped_busy_total",
     "Prediction candidates not started: no free planner slot or predict_max_runs running.",
     &NearMissCounters::predictions_dropped_busy},
};

}  // namespace

json NearMiss::stats_json() const {
  json out = json::object();
  for (const auto& [ns, lane] : lanes_) out[ns] = lane_json(*lane);
  return out;
}

std::string NearMiss::prometheus_text() const {
  if (lanes_.empty()) return "";
  Families w;
  for (const CounterFamily& f : kCounterFamilies) {
    w.family(f.name, "counter", f.help);
    for (const auto& [ns, lane] : lanes_)
      w.sample(*lane, "", std::to_string(load(lane->counters.*(f.member))));
  }
  w.family("similar_misses_total", "counter",
           "Similar-goal lookups that did not serve, by decision.");
  for (const auto& [ns, lane] : lanes_) {
    for (const auto& [name, value] : misses(lane->counters)) {
      w.sample(*lane, ",decision=\"" + name + "\"", std::to_string(value));
    }
  }
  w.family("vetoes_total", "counter", "Similar-goal candidates vetoed, by reason.");
  for (const auto& [ns, lane] : lanes_) {
    for (const auto& [name, value] : vetoes(lane->counters)) {
      w.sample(*lane, ",reason=\"" + name + "\"", std::to_string(value));
    }
  }
  w.family("planner_seconds_saved_total", "counter",
           "Planner time saved by near-miss reuse, by source (incremental, similar).");
  for (const auto& [ns, lane] : lanes_) {
    const NearMissCounters& c = lane->counters;
    w.sample(*lane, ",source=\"incremental\"",
             json(static_cast<double>(load(c.planner_ms_saved_incremental)) / 1000.0).dump());
    w.sample(*lane, ",source=\"similar\"",
             json(static_cast<double>(load(c.planner_ms_saved_similar)) / 1000.0).dump());
  }
  w.family("index_entries", "gauge", "Entries of the lane's neighbour index.");
  for (const auto& [ns, lane] : lanes_)
    w.sample(*lane, "", std::to_string(lane->index.stats().entries));
  w.family("index_bytes", "gauge", "Approximate bytes of the lane's neighbour index.");
  for (const auto& [ns, lane] : lanes_) {
    w.sample(*lane, "", std::to_string(lane->index.stats().memory_bytes));
  }
  return w.take();
}

}  // namespace plancache::internal
