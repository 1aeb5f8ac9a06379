// RedisTier's background thread and life cycle: it applies meta changes
// the listener saw (fetch + local invalidation), replays the outage journal
// once Redis is back, and renews held leases. Nothing here is on a request
// path.
#include "tiers/redis/redis_tier_impl.h"

namespace plancache::internal {

Status RedisTier::start() {
  ListenerOptions listen;
  listen.prefixes = {keys_.tracked_prefix()};
  ListenerCallbacks callbacks;
  callbacks.on_keys = [this](const RedisEndpoint&, const std::vector<std::string>& names) {
    on_keys(names);
  };
  callbacks.on_flush = [this](const RedisEndpoint&) { on_flush(); };
  callbacks.on_state = [this](const RedisEndpoint& node, bool up) { on_listener_state(node, up); };
  auto listeners = start_invalidation_listeners(*client_, std::move(listen), std::move(callbacks));
  if (!listeners.is_ok()) return listeners.status();
  listeners_ = std::move(listeners).value();
  listening_.store(listeners_.get());
  maintenance_ = std::thread([this] { maintenance_loop(); });
  return Status::ok();
}

RedisTier::~RedisTier() {
  {
    std::lock_guard lock(work_mu_);
    stopping_ = true;
    work_cv_.notify_all();
  }
  if (maintenance_.joinable()) maintenance_.join();
  listening_.store(nullptr);
  if (listeners_) listeners_->stop();
  listeners_.reset();
  // Now, while every member is alive: the client's thread may still be
  // calling on_breaker_state.
  client_.reset();
}

void RedisTier::maintenance_loop() {
  const auto renew_every = options_.lease_ttl / 3;
  auto next_renewal = std::chrono::steady_clock::now() + renew_every;
  std::unique_lock lock(work_mu_);
  while (!stopping_) {
    work_cv_.wait_until(lock, std::min(next_renewal, std::chrono::steady_clock::now() +
                                                         std::chrono::milliseconds(100)));
    if (stopping_) break;
    std::set<std::string> changed = std::move(meta_changed_);
    meta_changed_.clear();
    const bool replay = replay_wanted_;
    replay_wanted_ = false;
    lock.unlock();
    regain_coherence();  // also when a listener came up before start() published it
    for (const std::string& ns : changed) apply_meta_change(ns);
    if (replay && !replay_journal()) {
      std::lock_guard again(work_mu_);
      replay_wanted_ = true;  // still unreachable: retry on the next round
    }
    if (std::chrono::steady_clock::now() >= next_renewal) {
      renew_leases();
      next_renewal = std::chrono::steady_clock::now() + renew_every;
    }
    lock.lock();
  }
}

}  // namespace plancache::internal
