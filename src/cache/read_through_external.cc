// ReadThroughEngine: external flights (see read_through_engine.h), for a
// caller that computes outside the engine -- the server's HTTP lease.
//
// An external flight is an ordinary flight whose compute is somebody else's
// business: its job re-checks the tiers and takes the shared tier's lease as
// a compute's job does, then hands the leader a token instead of computing,
// and the flight stays in flights_ until the holder delivers its value
// (complete_external), gives up (release_external) or lets the lease lapse
// (expire_external, driven by the caller's sweep). So an in-process compute
// and an external one are one flight table: whoever comes second waits.
//
// Invariants, beside read_through_engine.cc's:
// - A held flight is ended by exactly one party: whoever claims it first
//   under mu_ (Flight::ending) -- the holder's complete or release, the
//   sweep, or stop().
// - A flight that ends without a value hands its waiters lease_ended, which
//   finish() turns into joining again: the first to rejoin leads next.
// - jobs_ counts a held flight until it ends, so the destructor waits for
//   it; stop() ends every held flight at once (the holders' completes then
//   get failed_precondition).
#include <random>

#include "cache/read_through_engine.h"
#include "cache/sync_point.h"

namespace plancache::internal {
namespace {

// 128 random bits as 32 hex digits: a lease token nobody can guess.
std::string new_token() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token(32, '0');
  for (int half = 0; half < 2; ++half) {
    uint64_t bits = gen();
    for (int i = 0; i < 16; ++i, bits >>= 4) token[half * 16 + i] = kHex[bits & 0xF];
  }
  return token;
}

ReadThroughOutcome lease_ended() {
  ReadThroughOutcome o;
  o.error = Status::unavailable("the lease holder gave up without a value");
  o.lease_ended = true;
  return o;
}

}  // namespace

void ReadThroughEngine::join_external(const CacheKey& key, int64_t lease_ms, Completion done) {
  std::shared_ptr<Flight> flight = enter(key, nullptr, std::move(done), nullptr, lease_ms);
  if (flight != nullptr) launch_external(key, std::move(flight), lease_ms);
}

void ReadThroughEngine::launch_external(const CacheKey& key, std::shared_ptr<Flight> flight,
                                        int64_t lease_ms) {
  flight->key.emplace(key);
  options_.executor([this, flight = std::move(flight), lease_ms] {
    const CacheKey& k = *flight->key;
    // As run(): another flight may have stored the value since the miss.
    const Lookup again = store_.lookup(k, /*allow_stale=*/false);
    if (again.hit()) {
      ReadThroughOutcome o;
      o.entry = again.entry;
      o.cached = true;
      o.tier = again.tier;
      return finish(k, *flight, o);
    }
    SharedLease shared = store_.lease(k);
    if (shared.state == SharedLease::State::kFound && shared.entry != nullptr) {
      shared_found_.fetch_add(1, std::memory_order_relaxed);
      ReadThroughOutcome o;
      o.entry = std::move(shared.entry);
      o.cached = true;
      o.tier = tier_kind_name(TierKind::kShared);
      return finish(k, *flight, o);
    }
    grant(k, flight, std::move(shared), lease_ms);
  });
}

void ReadThroughEngine::grant(const CacheKey& key, const std::shared_ptr<Flight>& flight,
                              SharedLease shared, int64_t lease_ms) {
  Completion leader;
  ReadThroughOutcome o;
  o.lease_token = new_token();
  {
    std::unique_lock lock(mu_);
    if (stopping_) {
      lock.unlock();
      store_.release(key, shared);
      ReadThroughOutcome stopped;
      stopped.error = Status::unavailable("the server is stopping; ask again later");
      return finish(key, *flight, stopped);
    }
    flight->token = o.lease_token;
    flight->started_ms = clock_.now_ms();  // compute_ms counts from here
    flight->lease_expires_ms = flight->started_ms + lease_ms;
    flight->shared = std::move(shared);
    leader = std::move(flight->waiters.front().done);
    flight->waiters.erase(flight->waiters.begin());
    flight->leader_answered = true;
    ++leases_held_;
  }
  leases_granted_.fetch_add(1, std::memory_order_relaxed);
  PLANCACHE_SYNC_POINT("ReadThrough::LeaseGranted");
  leader(std::move(o));  // no lock held: user code
}

std::shared_ptr<ReadThroughEngine::Flight> ReadThroughEngine::claim_locked(
    const CacheKey& key, std::string_view token) {
  const auto it = flights_.find(key.encoded());
  if (it == flights_.end()) return nullptr;
  Flight& f = *it->second;
  if (!f.external || f.ending || f.token.empty() || f.token != token) return nullptr;
  f.ending = true;
  --leases_held_;
  return it->second;
}

template <typename Pred>
std::vector<std::shared_ptr<ReadThroughEngine::Flight>> ReadThroughEngine::claim_all_locked(
    Pred pred) {
  std::vector<std::shared_ptr<Flight>> claimed;
  for (auto& [encoded, flight] : flights_) {
    if (!flight->external || flight->ending || flight->token.empty() || !pred(*flight)) continue;
    flight->ending = true;
    --leases_held_;
    claimed.push_back(flight);
  }
  return claimed;
}

Result<ReadThroughOutcome> ReadThroughEngine::complete_external(const CacheKey& key,
                                                                std::string_view token,
                                                                Computed computed) {
  std::shared_ptr<Flight> flight;
  {
    std::lock_guard lock(mu_);
    flight = claim_locked(key, token);
  }
  if (flight == nullptr) {
    return Status::failed_precondition(
        "the lease is no longer held (it expired, was released, or the server is stopping); "
        "nothing was stored");
  }
  leases_completed_.fetch_add(1, std::memory_order_relaxed);
  ReadThroughOutcome outcome;
  if (computed.value == nullptr) {
    outcome = fail(key, *flight, Status::internal("the lease holder delivered no value"));
  } else if (Status admitted = store_.admit(*computed.value); !admitted.is_ok()) {
    outcome = fail(key, *flight, std::move(admitted));
  } else {
    const int64_t elapsed_ms = clock_.now_ms() - flight->started_ms;
    outcome = keep(key, *flight, std::move(computed), elapsed_ms, flight->shared);
  }
  store_.release(key, flight->shared);  // no-op once committed
  finish(key, *flight, outcome);
  if (!outcome.error.is_ok()) return outcome.error;
  return outcome;
}

bool ReadThroughEngine::renew_external(const CacheKey& key, std::string_view token,
                                       int64_t lease_ms) {
  std::lock_guard lock(mu_);
  const auto it = flights_.find(key.encoded());
  if (it == flights_.end()) return false;
  Flight& f = *it->second;
  if (!f.external || f.ending || f.token.empty() || f.token != token) return false;
  f.lease_expires_ms = clock_.now_ms() + lease_ms;
  return true;
}

bool ReadThroughEngine::release_external(const CacheKey& key, std::string_view token) {
  std::shared_ptr<Flight> flight;
  {
    std::lock_guard lock(mu_);
    flight = claim_locked(key, token);
  }
  if (flight == nullptr) return false;
  leases_released_.fetch_add(1, std::memory_order_relaxed);
  end_without_value(*flight, lease_ended());
  return true;
}

size_t ReadThroughEngine::expire_external() {
  std::vector<std::shared_ptr<Flight>> expired;
  size_t still_held = 0;
  {
    std::lock_guard lock(mu_);
    if (leases_held_ == 0) return 0;
    const int64_t now = clock_.now_ms();
    expired = claim_all_locked([now](const Flight& f) { return f.lease_expires_ms <= now; });
    still_held = leases_held_;
  }
  leases_expired_.fetch_add(expired.size(), std::memory_order_relaxed);
  for (const auto& flight : expired) end_without_value(*flight, lease_ended());
  return still_held;
}

void ReadThroughEngine::end_without_value(Flight& flight, const ReadThroughOutcome& outcome) {
  const CacheKey& key = *flight.key;
  store_.release(key, flight.shared);
  finish(key, flight, outcome);
}

// stop(): the holders will not be waited for.
void ReadThroughEngine::end_held_flights() {
  std::vector<std::shared_ptr<Flight>> held;
  {
    std::lock_guard lock(mu_);
    held = claim_all_locked([](const Flight&) { return true; });
  }
  ReadThroughOutcome stopped;
  stopped.error = Status::unavailable("the server is stopping; ask again later");
  for (const auto& flight : held) end_without_value(*flight, stopped);
}

}  // namespace plancache::internal
