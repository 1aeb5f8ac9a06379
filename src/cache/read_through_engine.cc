// ReadThroughEngine: flights of compute runs (see read_through_engine.h for
// the contract). This file owns the single-flight invariants of plancache.
//
// The idea: a flight is a key's one compute in progress, with the callers
// waiting for it. The first caller to miss a key starts it (the leader);
// later callers join it; the job runs on the executor and hands one outcome
// to every waiter.
//
// Invariants:
// - flights_ holds a key exactly while its job has not yet handed out its
//   outcome. The job stores the value before it erases the key, so a caller
//   that misses and then finds no flight will find the value on its leader's
//   re-check (ReadThrough::LeaderBeforeRecheck) -- never a second compute
//   for a value already stored.
// - A foreground flight re-checks the tiers before computing: another flight
//   may have stored the value between the caller's miss and its joining.
// - A background flight (refresh) stores only when nothing newer than its
//   start is in the tiers: a refresh racing a fresh put does not overwrite
//   the newer value. (The check and the store are two tier calls; a put
//   landing between them is overwritten by a value computed after it began.)
// - Compute functions and completions run with mu_ released; completions run
//   after the key is erased, so a completion may join() again.
// - jobs_ counts launched flights until their last completion has run; the
//   destructor and stop() wait on it, so no job touches a dead engine.
#include "cache/read_through_engine.h"

#include <algorithm>
#include <exception>
#include <optional>

#include "cache/sync_point.h"

namespace plancache::internal {
namespace {

ReadThroughOutcome failed(Status error) {
  ReadThroughOutcome o;
  o.error = std::move(error);
  return o;
}

ReadThroughOutcome found(EntryPtr entry, std::string_view tier, bool stale) {
  ReadThroughOutcome o;
  o.entry = std::move(entry);
  o.cached = true;
  o.tier = tier;
  o.stale = stale;
  return o;
}

Result<Computed> invoke(const ComputeFn& compute) {
  try {
    return compute();
  } catch (const std::exception& e) {
    return Status::internal(std::string("compute function threw: ") + e.what());
  } catch (...) {
    return Status::internal("compute function threw a non-standard exception");
  }
}

}  // namespace

ReadThroughEngine::ReadThroughEngine(ReadThroughStore& store, const Clock& clock,
                                     ReadThroughOptions options)
    : store_(store), clock_(clock), options_(std::move(options)) {}

ReadThroughEngine::~ReadThroughEngine() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  end_held_flights();  // nobody would complete them now
  std::thread stopper;
  {
    std::unique_lock lock(mu_);
    idle_.wait(lock, [this] { return jobs_ == 0; });
    stopper = std::move(stopper_);
  }
  if (stopper.joinable()) stopper.join();
}

void ReadThroughEngine::join(const CacheKey& key, ComputeFn compute, EntryPtr stale,
                             Completion done) {
  PLANCACHE_SYNC_POINT("ReadThrough::AfterMiss");
  std::shared_ptr<Flight> flight = enter(key, std::move(stale), std::move(done), &compute, 0);
  if (flight != nullptr) launch(key, std::move(compute), std::move(flight));
}

std::shared_ptr<ReadThroughEngine::Flight> ReadThroughEngine::enter(const CacheKey& key,
                                                                    EntryPtr stale,
                                                                    Completion done,
                                                                    const ComputeFn* compute,
                                                                    int64_t lease_ms) {
  std::unique_lock lock(mu_);
  if (stopping_) {
    lock.unlock();
    done(failed(Status::unavailable("the server is stopping; ask again later")));
    return nullptr;
  }
  auto [it, inserted] = flights_.try_emplace(key.encoded());
  if (!inserted) {
    Flight& flight = *it->second;
    // Only an external flight's waiters may have to join again (finish()).
    Waiter waiter{std::move(done), nullptr, lease_ms};
    if (flight.external && compute != nullptr) waiter.compute = *compute;
    flight.waiters.push_back(std::move(waiter));
    if (!flight.stale) flight.stale = std::move(stale);
    ++flight.followers;
    ++waiting_;
    coalesced_.fetch_add(1, std::memory_order_relaxed);
    lock.unlock();
    PLANCACHE_SYNC_POINT("ReadThrough::Joined");
    return nullptr;
  }
  it->second = std::make_shared<Flight>();
  std::shared_ptr<Flight> flight = it->second;
  flight->waiters.push_back(Waiter{std::move(done), nullptr, lease_ms});
  flight->stale = std::move(stale);
  flight->external = compute == nullptr;
  flight->started_ms = clock_.now_ms();
  ++jobs_;
  return flight;
}

ReadThroughOutcome ReadThroughEngine::join_and_wait(const CacheKey& key,
                                                    const ComputeFn& compute) {
  struct Slot {
    std::mutex mu;  // guards outcome; cv signals it set
    std::condition_variable cv;
    std::optional<ReadThroughOutcome> outcome;
  };
  auto waiter = std::make_shared<Slot>();
  join(key, compute, nullptr, [waiter](ReadThroughOutcome o) {
    {
      std::lock_guard lock(waiter->mu);
      waiter->outcome.emplace(std::move(o));
    }
    waiter->cv.notify_all();
  });
  std::unique_lock lock(waiter->mu);
  waiter->cv.wait(lock, [&] { return waiter->outcome.has_value(); });
  return std::move(*waiter->outcome);
}

bool ReadThroughEngine::refresh(const CacheKey& key, ComputeFn compute, Completion done) {
  std::unique_lock lock(mu_);
  if (stopping_ || flights_.count(key.encoded()) != 0) return false;  // one run per key
  if (background_running_ >= options_.max_background_refreshes) {
    refreshes_skipped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  ++background_running_;
  refreshes_.fetch_add(1, std::memory_order_relaxed);
  auto flight = std::make_shared<Flight>();
  flight->background = true;
  flight->started_ms = clock_.now_ms();
  if (done) flight->waiters.push_back(Waiter{std::move(done), nullptr, 0});
  flights_.emplace(key.encoded(), flight);
  ++jobs_;
  lock.unlock();
  launch(key, std::move(compute), std::move(flight));
  return true;
}

void ReadThroughEngine::launch(const CacheKey& key, ComputeFn compute,
                               std::shared_ptr<Flight> flight) {
  options_.executor([this, key, compute = std::move(compute), flight = std::move(flight)] {
    const ReadThroughOutcome outcome = run(key, compute, *flight);
    finish(key, *flight, outcome);
  });
}

// Gives a held shared lease up unless it was committed (every path that
// does not store: a failed compute, a value not worth storing, a refresh
// that found a newer value).
class ReadThroughEngine::LeaseHold {
 public:
  LeaseHold(ReadThroughStore& store, const CacheKey& key, SharedLease taken)
      : store_(store), key_(key), lease(std::move(taken)) {}
  ~LeaseHold() { store_.release(key_, lease); }
  LeaseHold(const LeaseHold&) = delete;
  LeaseHold& operator=(const LeaseHold&) = delete;

 private:
  ReadThroughStore& store_;
  const CacheKey& key_;

 public:
  SharedLease lease;
};

ReadThroughOutcome ReadThroughEngine::run(const CacheKey& key, const ComputeFn& compute,
                                          const Flight& flight) {
  if (!flight.background) {
    // Another flight may have stored the value between the miss and now.
    PLANCACHE_SYNC_POINT("ReadThrough::LeaderBeforeRecheck");
    const Lookup again = store_.lookup(key, /*allow_stale=*/false);
    if (again.hit()) return found(again.entry, again.tier, false);
  }
  // Across instances: one of them computes, the others get its value.
  LeaseHold hold(store_, key, store_.lease(key));
  if (hold.lease.state == SharedLease::State::kFound && hold.lease.entry != nullptr) {
    shared_found_.fetch_add(1, std::memory_order_relaxed);
    return found(hold.lease.entry, tier_kind_name(TierKind::kShared), false);
  }
  computes_.fetch_add(1, std::memory_order_relaxed);
  const int64_t start = clock_.monotonic_ns();
  Result<Computed> computed = invoke(compute);  // no lock held: user code
  const int64_t elapsed_ms = (clock_.monotonic_ns() - start) / 1'000'000;
  if (!computed.is_ok()) return fail(key, flight, computed.status());
  if (computed->value == nullptr) {
    return fail(key, flight, Status::internal("compute function returned a null value"));
  }
  if (Status admitted = store_.admit(*computed->value); !admitted.is_ok()) {
    return fail(key, flight, std::move(admitted));
  }
  return keep(key, flight, std::move(computed).value(), elapsed_ms, hold.lease);
}

// stale-if-error: the stale entry a caller found answers for a failed
// compute while within the lane's window (and not yet expired).
ReadThroughOutcome ReadThroughEngine::fail(const CacheKey& key, const Flight& flight,
                                           Status error) {
  compute_errors_.fetch_add(1, std::memory_order_relaxed);
  EntryPtr stale;
  {
    std::lock_guard lock(mu_);  // waiters may still be adding their stale entry
    stale = flight.stale;
  }
  if (stale != nullptr && may_serve_for_error(key.ns(), *stale, clock_.now_ms())) {
    stale_served_.fetch_add(1, std::memory_order_relaxed);
    return found(std::move(stale), {}, /*stale=*/true);  // the caller knows its tier
  }
  return failed(std::move(error));
}

// Makes the entry and stores it when it is worth storing (the one rule).
ReadThroughOutcome ReadThroughEngine::keep(const CacheKey& key, const Flight& flight,
                                           Computed computed, int64_t elapsed_ms,
                                           SharedLease& lease) {
  const NamespacePolicy* policy = policy_for(key.ns());
  PutOptions& o = computed.options;
  if (o.compute_ms == 0) {
    o.compute_ms = static_cast<uint32_t>(std::clamp<int64_t>(elapsed_ms, 0, UINT32_MAX));
  }
  if (o.stale_grace_ms == 0 && policy != nullptr) {
    o.stale_grace_ms = policy->read_through.stale_grace_ms();
  }
  const int64_t ttl = o.ttl_ms.value_or(policy ? policy->default_ttl_ms : options_.default_ttl_ms);
  EntryPtr entry = make_entry(std::move(computed.value), clock_.now_ms(), std::max<int64_t>(ttl, 0),
                              o.compute_ms, o.tags, o.stale_grace_ms, o.priority);
  ReadThroughOutcome out;
  out.entry = entry;
  out.note = std::move(computed.note);
  const bool worth = policy == nullptr || policy->worth_storing(o.compute_ms);
  if (!options_.store || !computed.store || !worth) {
    not_stored_.fetch_add(1, std::memory_order_relaxed);
    return out;
  }
  PLANCACHE_SYNC_POINT("ReadThrough::BeforeStore");
  if (Lookup newer; flight.background && newer_than_flight(key, flight, &newer)) {
    return found(std::move(newer.entry), newer.tier, false);
  }
  Status s = lease.state == SharedLease::State::kHeld ? store_.store_leased(key, entry, lease)
                                                      : store_.store(key, entry);
  if (s.code() == StatusCode::kResourceExhausted) {
    compute_errors_.fetch_add(1, std::memory_order_relaxed);
    return failed(std::move(s));
  }
  stored_.fetch_add(1, std::memory_order_relaxed);
  out.stored = s.is_ok();
  PLANCACHE_SYNC_POINT("ReadThrough::AfterStore");
  return out;
}

// True (and *newer set) when the tiers hold a fresh entry made at or after
// the flight began: a put the refresh must not overwrite.
bool ReadThroughEngine::newer_than_flight(const CacheKey& key, const Flight& flight,
                                          Lookup* newer) {
  Lookup now = store_.lookup(key, /*allow_stale=*/false);
  if (!now.hit() || now.entry->meta.created_ms < flight.started_ms) return false;
  *newer = std::move(now);
  return true;
}

void ReadThroughEngine::finish(const CacheKey& key, Flight& flight,
                               const ReadThroughOutcome& outcome) {
  PLANCACHE_SYNC_POINT("ReadThrough::BeforeLeave");
  std::vector<Waiter> waiters;
  {
    std::lock_guard lock(mu_);
    waiters = std::move(flight.waiters);
    flights_.erase(key.encoded());
    waiting_ -= flight.followers;
    if (flight.background) --background_running_;
  }
  for (size_t i = 0; i < waiters.size(); ++i) {
    Waiter& w = waiters[i];
    if (outcome.lease_ended) {  // no value: each waiter joins again
      if (w.compute) {
        join(key, std::move(w.compute), flight.stale, std::move(w.done));
      } else {
        join_external(key, w.lease_ms, std::move(w.done));
      }
      continue;
    }
    ReadThroughOutcome copy = outcome;
    copy.coalesced = flight.background || flight.leader_answered || i != 0;
    w.done(std::move(copy));  // no lock held: user code
  }
  std::lock_guard lock(mu_);
  if (--jobs_ == 0) idle_.notify_all();
}

void ReadThroughEngine::stop(std::chrono::milliseconds grace, std::function<void()> on_overdue) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  end_held_flights();  // their holders compute elsewhere: nothing to wait for
  std::lock_guard lock(mu_);
  stopper_ = std::thread([this, grace, on_overdue = std::move(on_overdue)] {
    std::unique_lock wait_lock(mu_);
    if (idle_.wait_for(wait_lock, grace, [this] { return jobs_ == 0; })) return;
    wait_lock.unlock();
    if (on_overdue) on_overdue();  // no lock held: user code
  });
}

ReadThroughStats ReadThroughEngine::stats() const {
  ReadThroughStats s;
  s.computes = computes_.load(std::memory_order_relaxed);
  s.compute_errors = compute_errors_.load(std::memory_order_relaxed);
  s.coalesced = coalesced_.load(std::memory_order_relaxed);
  s.stored = stored_.load(std::memory_order_relaxed);
  s.not_stored = not_stored_.load(std::memory_order_relaxed);
  s.stale_served = stale_served_.load(std::memory_order_relaxed);
  s.refreshes = refreshes_.load(std::memory_order_relaxed);
  s.refreshes_skipped = refreshes_skipped_.load(std::memory_order_relaxed);
  s.shared_found = shared_found_.load(std::memory_order_relaxed);
  s.leases_granted = leases_granted_.load(std::memory_order_relaxed);
  s.leases_completed = leases_completed_.load(std::memory_order_relaxed);
  s.leases_expired = leases_expired_.load(std::memory_order_relaxed);
  s.leases_released = leases_released_.load(std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  s.leases_held = leases_held_;
  s.inflight = flights_.size();
  s.waiting = waiting_;
  return s;
}

}  // namespace plancache::internal
