#include "server/plan_leases.h"

#include <atomic>
#include <vector>

namespace plancache::internal {

struct PlanLeases::Waiter {
  std::atomic<bool> answered{false};
  Done done;
};

namespace {

int64_t monotonic_ms(const Clock& clock) { return clock.monotonic_ns() / 1'000'000; }

}  // namespace

PlanLeases::PlanLeases(ReadThroughEngine& engine, const Clock& clock)
    : engine_(engine), clock_(clock), sweeper_([this] { sweep_loop(); }) {}

PlanLeases::~PlanLeases() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  sweeper_.join();
}

void PlanLeases::acquire(const CacheKey& key, int64_t lease_ms, int64_t wait_ms, Done done) {
  auto waiter = std::make_shared<Waiter>();
  waiter->done = std::move(done);
  {
    std::lock_guard lock(mu_);
    deadlines_.emplace(monotonic_ms(clock_) + wait_ms, waiter);
  }
  cv_.notify_all();
  engine_.join_external(key, lease_ms, [waiter, &engine = engine_, key](ReadThroughOutcome o) {
    if (waiter->answered.exchange(true)) {
      // Answered "pending" already: nobody would compute under this lease.
      if (!o.lease_token.empty()) engine.release_external(key, o.lease_token);
      return;
    }
    waiter->done(std::move(o));
  });
}

size_t PlanLeases::answer_overdue() {
  std::vector<std::shared_ptr<Waiter>> overdue;
  size_t left = 0;
  {
    std::lock_guard lock(mu_);
    const auto end = deadlines_.upper_bound(monotonic_ms(clock_));
    for (auto it = deadlines_.begin(); it != end; ++it) {
      if (auto w = it->second.lock()) overdue.push_back(std::move(w));
    }
    deadlines_.erase(deadlines_.begin(), end);
    left = deadlines_.size();
  }
  for (const auto& w : overdue) {
    if (!w->answered.exchange(true)) w->done(std::nullopt);
  }
  return left;
}

void PlanLeases::sweep_loop() {
  bool busy = false;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (busy) {
      cv_.wait_for(lock, std::chrono::milliseconds(kSweepMs));
    } else {
      cv_.wait(lock, [this] { return stopping_ || !deadlines_.empty(); });
    }
    if (stopping_) break;
    lock.unlock();
    const size_t held = engine_.expire_external();
    const size_t waiting = answer_overdue();
    busy = held != 0 || waiting != 0;
    lock.lock();
  }
}

}  // namespace plancache::internal
