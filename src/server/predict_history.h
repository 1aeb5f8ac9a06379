// What the predictor (predictor.h) learns from and what it keeps track of,
// per lane with `predict = true` (docs/architecture.md, "Near-miss reuse"):
//
// RequestHistory: the lane's recent plan requests -- lookups and
// read-through requests, hits and misses -- by key, with the request's
// normalised goal and canonical context (the access log has only the key's
// hash), the times it was asked (the latest kMaxTimesPerKey) and the end
// of freshness of the entry the last hit found. Bounded: past max_records
// keys the least recently asked one is forgotten.
//
// PredictionLedger: the keys a prediction was started for, until a caller
// uses the plan (a hit on an entry made after the prediction began, or a
// caller joining the prediction's flight: used) or the plan leaves the cache
// unasked (evicted or expired: wasted; invalidated or deleted: forgotten).
// A tracked key is not predicted again. Bounded: past max_keys the oldest
// is forgotten (counted neither way).
//
// Time is given by the caller (Clock::now_ms), so tests need no clock.
// Thread-safety: both classes are thread-safe (one mutex each); nothing
// calls user code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "plancache/entry.h"

namespace plancache::internal {

// One key's requests, as a snapshot sees them.
struct RequestRecord {
  std::string key;        // the plan key's hex digest
  std::string goal;       // normalised goal
  std::string context;    // canonical JSON text
  uint32_t requests = 0;  // requests inside the snapshot's window
  int64_t last_ms = 0;    // the latest request
  // EntryMeta::fresh_until() of the entry the latest hit found; 0 =
  // unknown (no hit yet, or a prediction refreshed it since) or never expires.
  int64_t fresh_until_ms = 0;
  int64_t ttl_ms = 0;  // that entry's fresh_until - created (0 with it)
};

class RequestHistory {
 public:
  // Times kept per key (older requests are no longer counted).
  static constexpr size_t kMaxTimesPerKey = 32;

  // `max_records` < 1 is taken as 1. Default: 10,000 keys.
  explicit RequestHistory(size_t max_records = 10'000);
  RequestHistory(const RequestHistory&) = delete;
  RequestHistory& operator=(const RequestHistory&) = delete;

  // A request for `key_hex` at `now_ms`; `fresh_until_ms` and `ttl_ms` of
  // the entry a hit found (0 for a miss: the last known values are kept).
  void record(std::string_view key_hex, std::string_view goal, std::string_view context,
              int64_t now_ms, int64_t fresh_until_ms, int64_t ttl_ms);
  // The entry's end of freshness is no longer known (it is being refreshed).
  void forget_freshness(std::string_view key_hex);
  // Every key asked inside [now_ms - window_ms, now_ms], most recent first;
  // keys with no request left inside the window are forgotten.
  std::vector<RequestRecord> snapshot(int64_t now_ms, int64_t window_ms);
  void clear();
  size_t size() const;

 private:
  struct Record {
    std::string key;
    std::string goal;
    std::string context;
    std::deque<int64_t> times;  // oldest first, at most kMaxTimesPerKey
    int64_t fresh_until_ms = 0;
    int64_t ttl_ms = 0;
  };
  using Order = std::list<Record>;  // most recently asked first

  const size_t max_records_;
  mutable std::mutex mu_;  // guards order_ and by_key_
  Order order_;
  std::unordered_map<std::string_view, Order::iterator> by_key_;  // views into order_'s keys
};

class PredictionLedger {
 public:
  enum class Event { kNone, kUsed, kWasted };

  // `max_keys` < 1 is taken as 1. Default: 10,000 keys.
  explicit PredictionLedger(size_t max_keys = 10'000);
  PredictionLedger(const PredictionLedger&) = delete;
  PredictionLedger& operator=(const PredictionLedger&) = delete;

  // A prediction for `key_hex` began at `now_ms`.
  void started(std::string_view key_hex, int64_t now_ms);
  // Its flight ended; `stored`: its plan is in the cache now. Not stored:
  // the key is forgotten (nothing to use or waste).
  void finished(std::string_view key_hex, bool stored);
  // A caller asked `key_hex`; `hit` is the entry it found, or null for a
  // miss. kUsed (and forgotten) for a hit on an entry made since the
  // prediction began, or a miss while its flight runs (the caller joins it).
  Event on_request(std::string_view key_hex, const Entry* hit);
  // `entry` of `key_hex` left the cache for `cause`. kWasted for an
  // eviction or expiry of the predicted entry; an invalidation or delete
  // forgets the key; a replacement, or the removal of an entry older than
  // the prediction, changes nothing.
  Event on_removal(std::string_view key_hex, const Entry& entry, RemovalCause cause);
  // Whether a prediction of `key_hex` runs or waits for its first use.
  bool tracked(std::string_view key_hex) const;
  void clear();
  size_t size() const;

 private:
  struct Tracked {
    int64_t started_ms = 0;
    bool running = true;
  };

  const size_t max_keys_;
  mutable std::mutex mu_;  // guards keys_ and fifo_
  std::unordered_map<std::string, Tracked> keys_;
  // (key, started_ms) in start order; may hold slots of keys forgotten or
  // started again since.
  std::deque<std::pair<std::string, int64_t>> fifo_;
};

}  // namespace plancache::internal
