// RedisTier leases: one instance computes a missing key, the others wait
// for its value (docs/architecture.md, "Lease protocol").
//
//   acquire: [GET entry, SET lease <token> NX PX ttl] in one round trip
//            (entry and lease share a slot). A valid entry -> kFound; the
//            SET took -> kHeld; else wait for a message naming the entry or
//            the lease, or lease_poll, and try again, up to lease_wait.
//   renew:   every third of the TTL while held: PEXPIRE iff the token holds.
//   commit:  a script stores the entry iff the lease still holds the token
//            and deletes the lease; a guard opened at acquire must also
//            hold (no invalidation of the key, no coherence loss meanwhile).
//   release: a script deletes the lease iff it holds the token.
// A holder that dies stops renewing: its lease expires and the next waiter's
// SET NX takes it -- exactly one, since SET NX succeeds once.
#include <random>

#include "tiers/redis/redis_tier_impl.h"

namespace plancache::internal {
namespace {

// KEYS[1] = entry, KEYS[2] = lease; ARGV = token, value, px ("0" = none).
constexpr std::string_view kCommitScript = R"lua(
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
if ARGV[3] == '0' then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
redis.call('DEL', KEYS[2])
return 1
)lua";

// KEYS[1] = lease; ARGV = token, px ("0" = delete).
constexpr std::string_view kLeaseScript = R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '0' then redis.call('DEL', KEYS[1]) else redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
)lua";

}  // namespace

std::string RedisTier::new_token() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

SharedLease RedisTier::acquire(const CacheKey& key) {
  const std::string entry_key = keys_.entry(key);
  const std::string lease_key = keys_.lease(key);
  const std::string token = new_token();
  const std::string ttl = std::to_string(options_.lease_ttl.count());
  const int64_t deadline = clock_->monotonic_ns() + options_.lease_wait.count() * 1'000'000;
  bool waited = false;
  for (;;) {
    uint64_t seq;
    {
      std::lock_guard lock(waiters_mu_);
      seq = wake_seq_;
    }
    const uint64_t ticket = guard_.begin_read(entry_key);
    auto replies = client_->pipeline(
        entry_key, {{"GET", entry_key}, {"SET", lease_key, token, "NX", "PX", ttl}});
    if (!replies.is_ok() || replies->size() != 2) {
      guard_.close(ticket, true);
      return SharedLease{};  // Redis down: compute here
    }
    auto found = decode_valid(key, (*replies)[0]);
    const bool took = (*replies)[1].is_status("OK");
    // A stale entry (past its TTL, kept for the stale windows) is not the
    // answer to a miss: it is what the compute replaces.
    if (found.is_ok() && *found != nullptr && !(*found)->meta.stale_at(clock_->now_ms())) {
      if (took) (void)client_->command(lease_key, {"EVAL", std::string(kLeaseScript), "1",
                                                   lease_key, token, "0"});
      if (waited) lease_found_.fetch_add(1, std::memory_order_relaxed);
      return SharedLease{SharedLease::State::kFound, "", ticket, std::move(*found)};
    }
    if (took) {
      leases_acquired_.fetch_add(1, std::memory_order_relaxed);
      std::lock_guard lock(leases_mu_);
      held_[token] = HeldLease{lease_key, token};
      return SharedLease{SharedLease::State::kHeld, token, ticket, nullptr};
    }
    guard_.close(ticket, true);
    if (!waited) lease_waits_.fetch_add(1, std::memory_order_relaxed);
    waited = true;
    const int64_t left_ns = deadline - clock_->monotonic_ns();
    if (left_ns <= 0) {
      lease_timeouts_.fetch_add(1, std::memory_order_relaxed);
      return SharedLease{SharedLease::State::kTimedOut, "", 0, nullptr};
    }
    std::unique_lock lock(waiters_mu_);
    waiters_cv_.wait_for(lock, std::min(options_.lease_poll, std::chrono::milliseconds(left_ns / 1'000'000 + 1)),
                         [&] { return wake_seq_ != seq; });
  }
}

Result<uint64_t> RedisTier::commit(const CacheKey& key, const EntryPtr& entry,
                                   SharedLease& lease) {
  if (lease.state != SharedLease::State::kHeld) {
    return Status::failed_precondition("no lease held for this key");
  }
  {
    std::lock_guard lock(leases_mu_);
    held_.erase(lease.token);
  }
  lease.state = SharedLease::State::kNone;
  const std::string entry_key = keys_.entry(key);
  const std::string lease_key = keys_.lease(key);
  auto drop_lease = [&] {
    (void)client_->command(lease_key,
                           {"EVAL", std::string(kLeaseScript), "1", lease_key, lease.token, "0"});
  };
  if (!guard_.close(lease.ticket, true)) {
    lease_lost_.fetch_add(1, std::memory_order_relaxed);
    drop_lease();
    return Status::failed_precondition("the key was invalidated while it was computed");
  }
  const int64_t ttl = redis_ttl_ms(key, *entry);
  auto value = ttl < 0 ? Result<std::string>(Status::failed_precondition("already expired"))
                       : encode_value(key, *entry);
  if (!value.is_ok()) {
    drop_lease();
    if (value.status().code() == StatusCode::kUnavailable) journal({entry_key, std::nullopt});
    return value.status();
  }
  const uint64_t write = guard_.begin_write(entry_key);
  auto reply = client_->command(
      entry_key, {"EVAL", std::string(kCommitScript), "2", entry_key, lease_key, lease.token,
                  std::move(value).value(), std::to_string(ttl)});
  if (!reply.is_ok() || reply->is_error()) {
    Status s = reply.is_ok() ? Status::unavailable("shared tier refused a commit: " + reply->str)
                             : unreachable(reply.status());
    guard_.close(write, /*applied=*/false);
    count_failure();
    journal({entry_key, std::nullopt});  // it may have landed: no older value may outlive it
    return s;
  }
  if (reply->integer != 1) {
    guard_.close(write, /*applied=*/false);
    lease_lost_.fetch_add(1, std::memory_order_relaxed);
    return Status::failed_precondition("the lease was lost (expired or revoked) while computing");
  }
  puts_.fetch_add(1, std::memory_order_relaxed);
  return write;
}

void RedisTier::release(const CacheKey& key, SharedLease& lease) {
  if (lease.state != SharedLease::State::kHeld) return;
  {
    std::lock_guard lock(leases_mu_);
    held_.erase(lease.token);
  }
  lease.state = SharedLease::State::kNone;
  guard_.close(lease.ticket, true);
  const std::string lease_key = keys_.lease(key);
  (void)client_->command(lease_key,
                         {"EVAL", std::string(kLeaseScript), "1", lease_key, lease.token, "0"});
}

void RedisTier::renew_leases() {
  std::vector<HeldLease> held;
  {
    std::lock_guard lock(leases_mu_);
    for (const auto& [token, lease] : held_) held.push_back(lease);
  }
  const std::string ttl = std::to_string(options_.lease_ttl.count());
  for (const HeldLease& lease : held) {
    (void)client_->command(lease.lease_key, {"EVAL", std::string(kLeaseScript), "1",
                                             lease.lease_key, lease.token, ttl});
  }
}

}  // namespace plancache::internal
