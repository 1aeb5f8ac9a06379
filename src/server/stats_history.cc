// The stats ring behind GET /v1/stats/history and the dashboard.
//
// Idea: the counters only grow, so a snapshot of the cumulative counters is
// enough to rebuild any rate later -- but the ring drops its oldest
// snapshot, so the rates over each interval are computed when a snapshot is
// taken, against the newest one still held (`previous`), and kept with it.
// Invariants: ring_ holds at most options_.capacity snapshots in the order
// they were taken; record() is serialised by record_mu_, so each delta is
// between two consecutive readings. A counter seen to go down (it cannot,
// short of a restart of a tier) gives a delta of its own value, never a
// negative one. The timer sleeps on a condition variable so that stop()
// wakes it at once; time stamps come from the injected Clock (a FakeClock in
// the tests, which call record() themselves).
#include "server/stats_history.h"

namespace plancache::internal {
namespace {

using nlohmann::json;

uint64_t delta(uint64_t now, uint64_t before) { return now >= before ? now - before : now; }

std::optional<double> ratio(uint64_t part, uint64_t whole) {
  if (whole == 0) return std::nullopt;
  return static_cast<double>(part) / static_cast<double>(whole);
}

const TierPoint* find_tier(const StatsSnapshot* snapshot, const std::string& name) {
  if (snapshot == nullptr) return nullptr;
  for (const TierPoint& t : snapshot->tiers) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

json optional_json(const std::optional<double>& x) { return x ? json(*x) : json(nullptr); }

json snapshot_json(const StatsSnapshot& s) {
  json tiers = json::array();
  for (const TierPoint& t : s.tiers) {
    tiers.push_back({{"name", t.name},
                     {"state", t.state},
                     {"connected", t.connected},
                     {"entries", t.entries},
                     {"bytes", t.bytes},
                     {"hits", t.hits},
                     {"misses", t.misses},
                     {"evictions", t.evictions},
                     {"hit_rate", optional_json(t.hit_rate)}});
  }
  json lanes = json::object();
  for (const LanePoint& l : s.lanes) {
    lanes[l.lane][l.tier] = {{"entries", l.entries},
                             {"bytes", l.bytes},
                             {"hits", l.hits},
                             {"misses", l.misses},
                             {"evictions", l.evictions}};
  }
  return {{"time_ms", s.time_ms},
          {"interval_s", s.interval_s},
          {"gets", s.gets},
          {"hits", s.hits},
          {"misses", s.misses},
          {"hit_rate", optional_json(s.hit_rate)},
          {"planner_calls", s.planner_calls},
          {"planner_seconds_saved", s.planner_seconds_saved},
          {"get_latency_us",
           {{"p50", s.get_p50_us},
            {"p99", s.get_p99_us},
            {"sum", s.get_sum_us},
            {"mean", optional_json(s.get_mean_us)}}},
          {"tiers", std::move(tiers)},
          {"lanes", std::move(lanes)}};
}

}  // namespace

StatsHistory::StatsHistory(const Clock& clock, StatsSource source, StatsHistoryOptions options)
    : clock_(clock), source_(std::move(source)), options_(options) {}

StatsHistory::~StatsHistory() { stop(); }

StatsSnapshot StatsHistory::make_snapshot(const StatsReading& reading, int64_t now_ms,
                                          const StatsSnapshot* previous) const {
  const CacheStats& c = reading.cache;
  StatsSnapshot s;
  s.time_ms = now_ms;
  s.gets = c.gets;
  s.hits = c.hits;
  s.misses = c.misses;
  s.planner_calls = reading.planner_calls;
  s.planner_seconds_saved = static_cast<double>(c.compute_ms_saved) / 1000.0;
  s.get_p50_us = c.get_latency.p50_us;
  s.get_p99_us = c.get_latency.p99_us;
  s.get_sum_us = c.get_latency.sum_us;

  const uint64_t gets = previous ? delta(c.gets, previous->gets) : c.gets;
  const uint64_t hits = previous ? delta(c.hits, previous->hits) : c.hits;
  s.hit_rate = ratio(hits, gets);
  const double sum_us = previous && c.get_latency.sum_us >= previous->get_sum_us
                            ? c.get_latency.sum_us - previous->get_sum_us
                            : c.get_latency.sum_us;
  if (gets != 0) s.get_mean_us = sum_us / static_cast<double>(gets);
  if (previous != nullptr) s.interval_s = static_cast<double>(now_ms - previous->time_ms) / 1e3;

  for (const TierStats& t : c.tiers) {
    TierPoint p{.name = t.name,
                .state = t.degraded.empty() ? "ok" : "degraded",
                .connected = t.connected,
                .entries = t.entries,
                .bytes = t.bytes,
                .hits = t.hits,
                .misses = t.misses,
                .evictions = t.evictions};
    const TierPoint* before = find_tier(previous, t.name);
    const uint64_t h = before ? delta(t.hits, before->hits) : t.hits;
    const uint64_t m = before ? delta(t.misses, before->misses) : t.misses;
    p.hit_rate = ratio(h, h + m);
    s.tiers.push_back(std::move(p));
    for (const auto& [ns, n] : t.namespaces) {
      s.lanes.push_back(LanePoint{.lane = ns,
                                  .tier = t.name,
                                  .entries = n.entries,
                                  .bytes = n.bytes,
                                  .hits = n.hits,
                                  .misses = n.misses,
                                  .evictions = n.evictions});
    }
  }
  return s;
}

void StatsHistory::record() {
  std::lock_guard record_lock(record_mu_);
  const StatsReading reading = source_();
  const int64_t now_ms = clock_.now_ms();
  std::optional<StatsSnapshot> previous;
  {
    std::lock_guard lock(ring_mu_);
    if (!ring_.empty()) previous = ring_.back();
  }
  StatsSnapshot snapshot = make_snapshot(reading, now_ms, previous ? &*previous : nullptr);
  std::lock_guard lock(ring_mu_);
  ring_.push_back(std::move(snapshot));
  while (ring_.size() > options_.capacity) ring_.pop_front();
}

void StatsHistory::start() {
  timer_ = std::thread([this] {
    std::unique_lock lock(timer_mu_);
    while (!timer_cv_.wait_for(lock, options_.interval, [this] { return stopping_; })) {
      lock.unlock();
      record();
      lock.lock();
    }
  });
}

void StatsHistory::stop() {
  {
    std::lock_guard lock(timer_mu_);
    stopping_ = true;
  }
  timer_cv_.notify_all();
  if (timer_.joinable()) timer_.join();
}

std::vector<StatsSnapshot> StatsHistory::since(int64_t since_ms) const {
  std::lock_guard lock(ring_mu_);
  std::vector<StatsSnapshot> out;
  for (const StatsSnapshot& s : ring_) {
    if (s.time_ms > since_ms) out.push_back(s);
  }
  return out;
}

json history_json(const StatsHistory& history, int64_t since_ms, int64_t now_ms) {
  json snapshots = json::array();
  for (const StatsSnapshot& s : history.since(since_ms)) snapshots.push_back(snapshot_json(s));
  return {{"interval_s", static_cast<double>(history.options().interval.count()) / 1e3},
          {"capacity", history.options().capacity},
          {"now_ms", now_ms},
          {"snapshots", std::move(snapshots)}};
}

}  // namespace plancache::internal
