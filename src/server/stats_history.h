// StatsHistory: a bounded ring of compact stats snapshots, taken every
// --stats-history-interval-s (and once at start), for the dashboard's charts
// (GET /ui) and GET /v1/stats/history. A snapshot keeps the cumulative
// counters and, computed when it is taken, the rates over the interval since
// the previous one (hit rate, mean get latency), so a client can plot either.
//
// Ownership: the history owns its snapshots and its timer thread; the
// source and the clock it is given must outlive it.
// Thread-safety: every method may be called from any thread; record() calls
// are serialised (the timer's and a caller's never interleave), and readers
// copy the snapshots out under the ring's lock. The source is called with no
// lock of the readers' held.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "plancache/cache.h"
#include "plancache/clock.h"

namespace plancache::internal {

// What a snapshot is made of: one reading of the counters.
struct StatsReading {
  CacheStats cache = {};  // namespaces already folded (fold_namespaces) by the source
  uint64_t planner_calls = 0;
};
using StatsSource = std::function<StatsReading()>;

struct StatsHistoryOptions {
  // Snapshots kept; the oldest goes first. Default: 360 (an hour at 10 s).
  size_t capacity = 360;
  // Time between two snapshots of the timer (start()). Default: 10 s.
  std::chrono::milliseconds interval{10'000};
};

// One tier in one snapshot: cumulative counters, and the hit rate over the
// interval (nullopt: no lookups reached the tier in it).
struct TierPoint {
  std::string name = "";   // "l1", "l2", "shared"
  std::string state = "";  // "ok" or "degraded"
  bool connected = true;
  uint64_t entries = 0, bytes = 0, hits = 0, misses = 0, evictions = 0;
  std::optional<double> hit_rate = std::nullopt;
};

// One lane (namespace) in one tier of a snapshot.
struct LanePoint {
  std::string lane = "";
  std::string tier = "";
  uint64_t entries = 0, bytes = 0, hits = 0, misses = 0, evictions = 0;
};

struct StatsSnapshot {
  int64_t time_ms = 0;                      // Clock::now_ms when taken (Unix ms)
  double interval_s = 0;                    // since the previous snapshot; 0 for the first
  uint64_t gets = 0, hits = 0, misses = 0;  // cumulative, cache-wide
  // hits / gets over the interval (the first snapshot: since start);
  // nullopt when there was no get in it.
  std::optional<double> hit_rate = std::nullopt;
  uint64_t planner_calls = 0;
  double planner_seconds_saved = 0;
  double get_p50_us = 0, get_p99_us = 0;             // since start, as /v1/stats
  double get_sum_us = 0;                             // cumulative: of all `gets` durations
  std::optional<double> get_mean_us = std::nullopt;  // over the interval; nullopt: no get
  std::vector<TierPoint> tiers;
  std::vector<LanePoint> lanes;
};

class StatsHistory {
 public:
  // REQUIRES: options.capacity >= 1, options.interval > 0.
  StatsHistory(const Clock& clock, StatsSource source, StatsHistoryOptions options);
  ~StatsHistory();  // stop()
  StatsHistory(const StatsHistory&) = delete;
  StatsHistory& operator=(const StatsHistory&) = delete;

  // Takes one snapshot now (reads the source, computes the interval rates
  // against the newest snapshot, drops the oldest past the capacity).
  void record();

  // Starts the timer thread: record() every interval until stop().
  // REQUIRES: called at most once.
  void start();
  // Ends the timer thread (wakes it at once) and joins it. Idempotent.
  void stop();

  // The snapshots taken after `since_ms` (Unix ms; 0 = all), oldest first.
  std::vector<StatsSnapshot> since(int64_t since_ms) const;

  const StatsHistoryOptions& options() const { return options_; }

 private:
  StatsSnapshot make_snapshot(const StatsReading& reading, int64_t now_ms,
                              const StatsSnapshot* previous) const;

  const Clock& clock_;
  const StatsSource source_;
  const StatsHistoryOptions options_;

  // Serialises record() (the source read and the push), so the deltas of
  // each snapshot are against the one taken just before it.
  std::mutex record_mu_;
  // Guards ring_.
  mutable std::mutex ring_mu_;
  std::deque<StatsSnapshot> ring_;  // oldest first, at most options_.capacity

  // Guards stopping_; the timer thread waits on timer_cv_ for it.
  std::mutex timer_mu_;
  std::condition_variable timer_cv_;
  bool stopping_ = false;
  std::thread timer_;
};

// The body of GET /v1/stats/history: {"interval_s","capacity","now_ms",
// "snapshots":[...]} (docs/http_api.md).
nlohmann::json history_json(const StatsHistory& history, int64_t since_ms, int64_t now_ms);

}  // namespace plancache::internal
