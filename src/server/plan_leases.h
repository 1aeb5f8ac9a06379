// PlanLeases: single-flight for HTTP callers that compute a plan themselves
// (POST /v1/plans/lease, docs/http_api.md "Leases").
//
// The flights are the read-through engine's external flights
// (cache/read_through_engine.h): one lease per missing key, whoever asks --
// another lease caller, a planner-backed POST /v1/plans, or (through the
// shared tier's lease) another instance. What this class adds is what HTTP
// needs: a waiter's answer within its wait bound ("pending": ask again),
// and the clock that ends leases whose holder neither delivered nor renewed
// (a holder that died). One sweeper thread does both, every kSweepMs while
// there is anything to sweep, idle otherwise.
//
// A waiter answered "pending" that is later handed the lease (the answer
// came too late) gives the lease back at once, so the next waiter gets it.
//
// Ownership: keeps references to the engine and the clock, which outlive it.
// Thread-safety: every method may be called from any thread; `done` runs
// once, on a planner-pool thread, the sweeper or the caller's thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "cache/read_through_engine.h"
#include "plancache/clock.h"

namespace plancache::internal {

class PlanLeases {
 public:
  // Sweep period: how late a lapsed lease or a waiter's bound is noticed.
  static constexpr int64_t kSweepMs = 50;

  // The engine's outcome (a value, a lease token, or an error), or nullopt
  // when the key is still being computed after the wait bound.
  using Done = std::function<void(std::optional<ReadThroughOutcome>)>;

  PlanLeases(ReadThroughEngine& engine, const Clock& clock);
  ~PlanLeases();
  PlanLeases(const PlanLeases&) = delete;
  PlanLeases& operator=(const PlanLeases&) = delete;

  // The value of `key`, or its lease for `lease_ms`, within `wait_ms`.
  void acquire(const CacheKey& key, int64_t lease_ms, int64_t wait_ms, Done done);
  // The holder's answers (ReadThroughEngine::complete_external, ...).
  Result<ReadThroughOutcome> complete(const CacheKey& key, std::string_view token,
                                      Computed computed) {
    return engine_.complete_external(key, token, std::move(computed));
  }
  bool renew(const CacheKey& key, std::string_view token, int64_t lease_ms) {
    return engine_.renew_external(key, token, lease_ms);
  }
  bool release(const CacheKey& key, std::string_view token) {
    return engine_.release_external(key, token);
  }

 private:
  struct Waiter;
  void sweep_loop();
  // Answers "pending" to the waiters whose bound has passed; returns how
  // many bounds are still to come.
  size_t answer_overdue();

  ReadThroughEngine& engine_;
  const Clock& clock_;
  std::mutex mu_;  // guards deadlines_, stopping_; cv_ wakes the sweeper
  std::condition_variable cv_;
  std::multimap<int64_t, std::weak_ptr<Waiter>> deadlines_;  // monotonic ms
  bool stopping_ = false;
  std::thread sweeper_;  // last: starts after the members above exist
};

}  // namespace plancache::internal
