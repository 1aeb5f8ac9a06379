// Test helpers for the read-through engine: an executor whose jobs the test
// runs when it chooses, and a sink that collects completions -- so races
// are ordered by the test, never by sleeps.
#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "cache/read_through_engine.h"

namespace plancache::testing {

// Queues jobs; the test runs them, on its own thread, when it chooses.
class ManualExecutor {
 public:
  internal::Executor executor() {
    return [this](std::function<void()> job) {
      std::lock_guard lock(mu_);
      jobs_.push_back(std::move(job));
    };
  }
  // Runs queued jobs (also those queued meanwhile) until none is left.
  size_t run_all() {
    size_t ran = 0;
    for (;;) {
      std::function<void()> job;
      {
        std::lock_guard lock(mu_);
        if (jobs_.empty()) return ran;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
      ++ran;
    }
  }

 private:
  std::mutex mu_;  // guards jobs_
  std::deque<std::function<void()>> jobs_;
};

// Collects completions.
struct Outcomes {
  internal::ReadThroughEngine::Completion sink() {
    return [this](internal::ReadThroughOutcome o) {
      std::lock_guard lock(mu);
      got.push_back(std::move(o));
    };
  }
  size_t size() {
    std::lock_guard lock(mu);
    return got.size();
  }
  std::mutex mu;  // guards got
  std::vector<internal::ReadThroughOutcome> got;
};

}  // namespace plancache::testing
