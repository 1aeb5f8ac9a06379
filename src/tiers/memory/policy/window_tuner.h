// WindowTuner: picks the admission window's share of a W-TinyLFU-style
// policy by miniature simulation.
//
// Caffeine's hill climber compares one sample's hit rate with the previous
// sample's. On a stationary workload the difference is noise, so the window
// wanders off its best size (Zipf at 1,000 entries: 0.7 to 1.1 points lost);
// on a short recency-heavy trace it climbs too slowly (LIRS sprite: 4.7
// points below LRU). The tuner instead runs, beside the shard, miniature
// copies of the policy at fixed window shares (1%, 20%, 50%, 100% -- the
// last is plain LRU) on a spatial sample of the keys (SHARDS, Waldspurger
// et al., FAST 2015; miniature simulations, Waldspurger et al., ATC 2017).
// All of them see the same sampled requests, so their comparison is paired:
// far less noisy than two samples of one cache taken apart in time. At the
// end of every period the shard takes the share of the miniature that saved
// the most (hits, or planner time, decayed over periods), when it is ahead
// of the miniature at the shard's current share by more than the noise (a
// paired test on the requests where the two differ).
//
// Cost: a shard of at most kSampledKeys entries samples every key, so each
// of its reads also runs the 4 small policies; a larger shard samples 1 key
// in max_entries / kSampledKeys and each miniature holds kSampledKeys.
//
// Thread-safety: none; guarded by the shard mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <vector>

#include "tiers/memory/policy/policy.h"

namespace plancache::internal {

class WindowTuner {
 public:
  // The window shares the miniatures run at.
  static constexpr double kShares[] = {0.01, 0.2, 0.5, 1.0};
  static constexpr size_t kMinis = std::size(kShares);

  // Builds a policy with a fixed window of `share` within `budget`.
  using MakePolicy = std::function<std::unique_ptr<Policy>(Budget budget, double share)>;

  WindowTuner(Budget budget, const MakePolicy& make);
  ~WindowTuner();
  WindowTuner(const WindowTuner&) = delete;
  WindowTuner& operator=(const WindowTuner&) = delete;

  // Whether the key of `hash` is in the sample.
  bool sampled(uint64_t hash) const { return rate_ == 1 || (hash >> 40) % rate_ == 0; }
  // Replays an access of a sampled key -- a hit of `node`, or its insertion
  // after a miss -- into every miniature; `worth` is what a hit on it saves
  // (1 to count hits, its cost to count planner time).
  // REQUIRES: sampled(node.hash).
  void access(const Node& node, double worth);
  // Counts one read of the shard. At the end of a period: the share the
  // shard should move to, when another miniature beat the one at
  // `current_share`.
  std::optional<double> on_read(double current_share);

  uint64_t rate() const { return rate_; }
  uint64_t period() const { return period_; }

 private:
  class Mini;
  struct Tally {
    double worth = 0;     // what i saved where j missed
    double squares = 0;   // sum of the squared worths (the test's variance)
  };

  uint64_t rate_ = 1;
  uint64_t period_ = 0;
  uint64_t reads_ = 0;
  std::vector<std::unique_ptr<Mini>> minis_;
  double saved_[kMinis] = {};         // decayed worth of each miniature's hits
  Tally wins_[kMinis][kMinis] = {};   // decayed: requests i hit and j missed
};

// The tuner of a policy of type P (constructible from (Budget, const
// TinyLfuConfig&)): its miniatures are P with a fixed window. Null when
// `config` asks for a fixed window.
template <typename P>
std::unique_ptr<WindowTuner> make_window_tuner(Budget budget, const TinyLfuConfig& config) {
  if (!config.adaptive_window) return nullptr;
  return std::make_unique<WindowTuner>(budget, [config](Budget mini, double share) {
    TinyLfuConfig fixed = config;
    fixed.initial_window = share;
    fixed.adaptive_window = false;
    return std::make_unique<P>(mini, fixed);
  });
}

}  // namespace plancache::internal
