// ReadThroughEngine: the one read-through engine of plancache -- the
// library's Cache::get_or_compute and the server's POST /v1/plans both run
// on it (docs/decisions.md, "One read-through engine").
//
// It owns: single-flight (one compute per missing key however many callers
// ask), the leader's re-check of the tiers, the min compute time
// (NamespacePolicy::worth_storing), the stale windows (stale-while-
// revalidate, stale-if-error: NamespacePolicy::read_through) and
// refresh-ahead (hot plans recomputed shortly before their TTL, a bounded
// number of background refreshes, a bounded hot-key table), and external
// flights: a caller that computes outside the engine (the server's HTTP
// lease, POST /v1/plans/lease) leads a flight as an in-process compute does,
// so the two never compute one key twice.
//
// It is completion-based: join() returns at once and calls the caller's
// completion when the flight ends, so an I/O thread never blocks on it;
// join_and_wait() is the blocking waiter. Compute functions run on the
// executor the engine is given (a thread pool, or inline_executor() for a
// blocking caller's own thread). The tiers are reached through a
// ReadThroughStore, so the engine does not know which cache it serves.
//
// Ownership: the engine keeps references to the store and the clock, which
// must outlive it; it owns nothing else. Its destructor waits for every
// flight it started to end (their completions run first).
//
// Thread-safety: every method may be called from any thread. Compute
// functions and completions run with no engine lock held; a completion may
// call join() again.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "plancache/cache.h"
#include "plancache/namespace_policy.h"

namespace plancache::internal {

// What the engine reads and writes: a cache's tiers.
class ReadThroughStore {
 public:
  virtual ~ReadThroughStore() = default;
  // The key in the tiers; a stale entry only when `allow_stale`.
  virtual Lookup lookup(const CacheKey& key, bool allow_stale) = 0;
  // Whether a computed value may be handed out at all (the size bound).
  // Default: every value.
  virtual Status admit(const Bytes& value) const;
  // Writes `entry` to the tiers. A resource_exhausted error fails the
  // flight (the value is over a bound: nobody gets it); any other error
  // only costs a later recompute (the callers get the value).
  virtual Status store(const CacheKey& key, const EntryPtr& entry) = 0;
  // Single-flight across instances (Cache::acquire_lease, put_leased,
  // release_lease): the leader takes the shared lease before computing.
  // Defaults: no lease; store(); nothing.
  virtual SharedLease lease(const CacheKey& key);
  virtual Status store_leased(const CacheKey& key, const EntryPtr& entry, SharedLease& lease);
  virtual void release(const CacheKey& key, SharedLease& lease);
};

// A ReadThroughStore over the public Cache API (get, put). The cache must
// outlive it. Thread-safe as the cache is.
class CacheStore final : public ReadThroughStore {
 public:
  explicit CacheStore(Cache& cache) : cache_(cache) {}
  Lookup lookup(const CacheKey& key, bool allow_stale) override;
  Status store(const CacheKey& key, const EntryPtr& entry) override;
  SharedLease lease(const CacheKey& key) override { return cache_.acquire_lease(key); }
  Status store_leased(const CacheKey& key, const EntryPtr& entry, SharedLease& lease) override {
    return cache_.put_leased(key, entry, lease);
  }
  void release(const CacheKey& key, SharedLease& lease) override {
    cache_.release_lease(key, lease);
  }

 private:
  Cache& cache_;
};

// Runs a job somewhere: posts it to a pool, or runs it at once.
using Executor = std::function<void(std::function<void()>)>;
// Runs every job on the calling thread, before returning.
Executor inline_executor();

// The one bound on a value's size; `max_bytes` 0 = no bound.
// Errors: resource_exhausted naming both sizes.
Status check_value_size(const Bytes& value, uint64_t max_bytes);

struct ReadThroughOptions {
  // Where compute functions run. REQUIRES: set.
  Executor executor;
  // Lane rules (default TTL, worth_storing, stale windows); null = the
  // defaults below, every value stored, no stale windows. Default: null.
  std::shared_ptr<const NamespacePolicies> policies;
  // TTL of computed values when `policies` is null. Default: 1 hour.
  int64_t default_ttl_ms = 3'600'000;
  // Refresh-ahead window before a plan's TTL ends (capped at half its TTL);
  // 0 = no refresh-ahead. Default: 0.
  int64_t refresh_ahead_ms = 0;
  // Hits within the window that make a plan hot enough. Default: 3.
  uint32_t refresh_ahead_min_hits = 3;
  // Background refreshes running at once; more are skipped. Default: 2.
  unsigned max_background_refreshes = 2;
  // Keys counted for refresh-ahead at once (the table is cleared when it
  // grows past this; some counts start over). Default: 100,000.
  size_t max_hot_keys = 100'000;
  // false: nothing computed is stored. Default: true.
  bool store = true;
};

// What one caller gets.
struct ReadThroughOutcome {
  EntryPtr entry;          // null when `error` is set
  Status error;            // the compute's failure, or ok
  bool cached = false;     // found in a tier by the leader, no compute for it
  std::string_view tier;   // when cached (static storage)
  bool stale = false;      // a stale entry served because the compute failed
  bool coalesced = false;  // joined another caller's (or a refresh's) flight
  bool stored = false;     // the value computed for this flight was stored
  std::string note;        // Computed::note of the value computed for this flight
  // join_external only: set = this caller leads the flight and holds its
  // lease: it computes and calls complete_external (or release_external)
  // with the token. entry is null and error ok then.
  std::string lease_token;
  // The external flight this caller waited on ended without a value (its
  // holder released the lease, or let it expire): join again.
  bool lease_ended = false;
};

struct ReadThroughStats {
  uint64_t computes = 0;        // compute functions run
  uint64_t compute_errors = 0;  // ... that failed (or made a refused value)
  uint64_t coalesced = 0;       // callers that joined a running flight
  uint64_t stored = 0;          // computed values stored
  uint64_t not_stored = 0;      // computed values not worth storing
  uint64_t stale_served = 0;    // stale entries answered for a failed compute
  uint64_t refreshes = 0;       // background refreshes started
  uint64_t refreshes_skipped = 0;  // not started: too many running
  uint64_t shared_found = 0;    // misses another instance computed (its lease)
  uint64_t leases_granted = 0;  // external flights handed to their caller
  uint64_t leases_completed = 0;  // ... whose holder delivered the value
  uint64_t leases_expired = 0;  // ... whose holder neither delivered nor renewed
  uint64_t leases_released = 0;  // ... whose holder gave up
  uint64_t leases_held = 0;     // external flights whose holder computes now
  uint64_t inflight = 0;        // flights running now
  uint64_t waiting = 0;         // callers waiting on another's flight now
};

class ReadThroughEngine {
 public:
  using Completion = std::function<void(ReadThroughOutcome)>;

  // REQUIRES: options.executor set; store and clock outlive the engine.
  ReadThroughEngine(ReadThroughStore& store, const Clock& clock, ReadThroughOptions options);
  ~ReadThroughEngine();
  ReadThroughEngine(const ReadThroughEngine&) = delete;
  ReadThroughEngine& operator=(const ReadThroughEngine&) = delete;

  // A caller missed `key`: joins its flight, or starts one (the leader).
  // `stale`: the stale entry the caller found, or null; it is the answer if
  // the compute fails within the lane's stale-if-error window. `done` runs
  // once, on the executor's thread (or at once when stopping).
  void join(const CacheKey& key, ComputeFn compute, EntryPtr stale, Completion done);
  // join(), then waits for the outcome on the calling thread.
  ReadThroughOutcome join_and_wait(const CacheKey& key, const ComputeFn& compute);

  // A caller found `entry` fresh: counts the hit for refresh-ahead. True
  // when the caller should start a refresh now (refresh()).
  bool note_hit(const CacheKey& key, const Entry& entry);
  // Starts a background refresh of `key` (a flight with no caller) unless
  // one runs for the key or too many run. A foreground miss joins it.
  // Returns whether it started; then `done` (when given) runs once with the
  // flight's outcome, told coalesced as every waiter of a refresh is.
  bool refresh(const CacheKey& key, ComputeFn compute, Completion done = nullptr);

  // External flights. join_external: as join(), for a caller that computes
  // itself: when it leads, `done` gets a lease token (valid `lease_ms`,
  // renewable) instead of a computed value; followers wait as for any
  // flight, and so do callers that join() the key meanwhile.
  void join_external(const CacheKey& key, int64_t lease_ms, Completion done);
  // The holder's value: stored as a compute's would be (worth_storing, the
  // shared lease) and handed to every waiter. Errors: failed_precondition
  // when `token` no longer leads the key's flight (expired, released, or
  // the engine stopping): nothing stored; resource_exhausted as join().
  Result<ReadThroughOutcome> complete_external(const CacheKey& key, std::string_view token,
                                               Computed computed);
  // Extends a held lease to `lease_ms` from now; false when not held.
  bool renew_external(const CacheKey& key, std::string_view token, int64_t lease_ms);
  // Gives a held lease up (the holder's compute failed): the waiters get
  // lease_ended and join again. False when not held.
  bool release_external(const CacheKey& key, std::string_view token);
  // Ends every lease past its time as release_external does. Returns how
  // many leases are still held (0: nothing to sweep until the next grant).
  size_t expire_external();

  // The grace period entries of `ns` are stored with.
  int64_t stale_grace_ms(std::string_view ns) const;
  // Whether a stale entry of `ns` found at `now_ms` may be served while it
  // is refreshed (the lane's stale-while-revalidate window).
  bool may_serve_while_revalidating(std::string_view ns, const Entry& entry,
                                    int64_t now_ms) const;

  // From now on join() answers unavailable at once and refresh() starts
  // nothing; when flights still run after `grace`, `on_overdue` is called
  // (e.g. to cancel planner calls). Returns at once; the first call wins.
  void stop(std::chrono::milliseconds grace, std::function<void()> on_overdue);

  ReadThroughStats stats() const;

 private:
  // One caller waiting on a flight. When an external flight ends without a
  // value its waiters join again: with `compute` (a join() caller) or as
  // join_external callers (compute null).
  struct Waiter {
    Completion done;
    ComputeFn compute;
    int64_t lease_ms = 0;
  };
  struct Flight {
    std::vector<Waiter> waiters;  // the leader's first (a refresh: its starter's, if any)
    EntryPtr stale;                   // fallback for stale-if-error
    bool background = false;
    int64_t started_ms = 0;           // Clock::now_ms when the flight began
    uint64_t followers = 0;           // waiters counted in waiting_
    // External flights (join_external): the holder's token once granted,
    // when the lease ends, and whether someone already ends the flight.
    bool external = false;
    bool leader_answered = false;  // waiters[0] was the leader, now answered
    std::string token;
    int64_t lease_expires_ms = 0;
    bool ending = false;
    SharedLease shared;  // the shared tier's lease, held for the holder
    std::optional<CacheKey> key;  // external flights: to end them by sweep
  };

  class LeaseHold;
  // Adds the caller to the key's flight; returns the flight when the caller
  // leads it (null when it joined one, or was answered because stopping).
  // `compute` null: a join_external caller (and a new flight is external).
  std::shared_ptr<Flight> enter(const CacheKey& key, EntryPtr stale, Completion done,
                                const ComputeFn* compute, int64_t lease_ms);
  void launch_external(const CacheKey& key, std::shared_ptr<Flight> flight, int64_t lease_ms);
  void grant(const CacheKey& key, const std::shared_ptr<Flight>& flight, SharedLease shared,
             int64_t lease_ms);
  // The held external flight of `key` with `token`, marked ending; null
  // when not held. REQUIRES: mu_ held.
  std::shared_ptr<Flight> claim_locked(const CacheKey& key, std::string_view token);
  // Ends a claimed external flight without a value: waiters get `outcome`
  // (or join again, for lease_ended).
  void end_without_value(Flight& flight, const ReadThroughOutcome& outcome);
  // stop(): ends every held external flight (its waiters get unavailable).
  void end_held_flights();
  // Claims every held external flight for which `pred` is true.
  // REQUIRES: mu_ held.
  template <typename Pred>
  std::vector<std::shared_ptr<Flight>> claim_all_locked(Pred pred);
  void launch(const CacheKey& key, ComputeFn compute, std::shared_ptr<Flight> flight);
  ReadThroughOutcome run(const CacheKey& key, const ComputeFn& compute, const Flight& flight);
  ReadThroughOutcome fail(const CacheKey& key, const Flight& flight, Status error);
  ReadThroughOutcome keep(const CacheKey& key, const Flight& flight, Computed computed,
                          int64_t elapsed_ms, SharedLease& lease);
  bool newer_than_flight(const CacheKey& key, const Flight& flight, Lookup* newer);
  void finish(const CacheKey& key, Flight& flight, const ReadThroughOutcome& outcome);
  const NamespacePolicy* policy_for(std::string_view ns) const;
  // Whether a stale entry of `ns` may answer for a failed compute at
  // `now_ms` (the lane's stale-if-error window).
  bool may_serve_for_error(std::string_view ns, const Entry& entry, int64_t now_ms) const;

  ReadThroughStore& store_;
  const Clock& clock_;
  const ReadThroughOptions options_;

  // Guards flights_, hot_, waiting_, background_running_, jobs_, stopping_
  // and stopper_; idle_ is notified when jobs_ drops to 0.
  mutable std::mutex mu_;
  std::condition_variable idle_;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;  // by encoded key
  std::unordered_map<std::string, uint32_t> hot_;  // refresh-ahead hit counts
  uint64_t waiting_ = 0;
  unsigned background_running_ = 0;
  uint64_t jobs_ = 0;  // flights launched whose completions have not all run
  bool stopping_ = false;
  std::thread stopper_;  // stop()'s grace timer

  std::atomic<uint64_t> computes_{0}, compute_errors_{0}, coalesced_{0}, stored_{0},
      not_stored_{0}, stale_served_{0}, refreshes_{0}, refreshes_skipped_{0}, shared_found_{0},
      leases_granted_{0}, leases_completed_{0}, leases_expired_{0}, leases_released_{0};
  uint64_t leases_held_ = 0;  // guarded by mu_
};

}  // namespace plancache::internal
