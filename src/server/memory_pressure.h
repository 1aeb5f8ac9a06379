// The decisions of the memory-pressure watchdog (memory_watchdog.h), apart
// from the threads and the tiers so that they are tested on their own: when
// to evict (with hysteresis), how far a lane's byte limit drops after an
// eviction, and how much it may grow back.
//
//   ratio = used / limit of the memory source
//   ratio >= high_watermark                 -> evict; a pressure episode starts
//   episode and ratio >= high - stop_gap    -> evict again (until under it)
//   episode and ratio <  high - stop_gap    -> the episode ends
//   no episode and ratio < high - grow_gap  -> shrunken lanes may grow back
//   otherwise                               -> hold
//
// Thread-safety: PressureController is not thread-safe (the watchdog calls
// it from its one thread); the functions are pure.
#pragma once

#include <cstdint>
#include <vector>

#include "server/memory_source.h"

namespace plancache::internal {

struct PressureOptions {
  // Evict at or above this share of the limit. Default: 0.80.
  double high_watermark = 0.80;
  // Share of every L1 lane evicted per round. Default: 0.20.
  double evict_fraction = 0.20;
  // An episode lasts until the ratio is under high_watermark - stop_gap.
  // Default: 0.05.
  double stop_gap = 0.05;
  // Lanes grow back only under high_watermark - grow_gap. Default: 0.10.
  double grow_gap = 0.10;
  // A lane's limit grows by at most this share of its bound per check.
  // Default: 0.10.
  double grow_step = 0.10;
  // A lane's limit never drops under this share of its bound (an empty or
  // small lane still takes a few plans). Default: 1/32.
  double min_lane_share = 1.0 / 32;
};

enum class PressureAction {
  kHold,   // nothing to do
  kEvict,  // evict a share of every lane and limit them
  kGrow,   // memory is back: shrunken lanes may grow
};

class PressureController {
 public:
  explicit PressureController(const PressureOptions& options) : options_(options) {}

  // The action for `reading`; starts or ends an episode. A reading without
  // a limit always holds.
  PressureAction decide(const MemoryReading& reading);
  bool in_episode() const { return episode_; }
  const PressureOptions& options() const { return options_; }

 private:
  const PressureOptions options_;
  bool episode_ = false;
};

// One L1 lane as the sizing sees it.
struct LaneSize {
  uint64_t bound = 0;  // its configured byte bound (> 0)
  uint64_t limit = 0;  // the limit in force; 0 = none (the bound alone)
  uint64_t bytes = 0;  // what it holds now
};

// The limit of a lane that was just evicted from: what it holds, but at
// least min_lane_share of its bound, and never above a limit in force.
uint64_t shrunk_limit(const LaneSize& lane, const PressureOptions& options);

// The lanes' limits after a kGrow check, in order: each shrunken lane grows
// by an equal part of `headroom` (the bytes still free under the grow
// threshold), at most grow_step of its bound; one that reaches its bound
// gets 0 (no limit). Lanes without a limit keep 0.
std::vector<uint64_t> grown_limits(const std::vector<LaneSize>& lanes, uint64_t headroom,
                                   const PressureOptions& options);

// The bytes free under the grow threshold: (high - grow_gap) x limit - used,
// 0 when there are none (or no limit).
uint64_t grow_headroom(const MemoryReading& reading, const PressureOptions& options);

}  // namespace plancache::internal
