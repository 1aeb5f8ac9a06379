// Hysteresis and lane sizing of the memory-pressure watchdog.
//
// Why two gaps. Evicting until just under the watermark would trigger again
// at the next few puts; evicting to high - stop_gap leaves room. Growing
// back only under high - grow_gap (a wider gap) keeps the lanes from growing
// right after an episode and filling straight into the next one.
//
// Why growth is paced by headroom. A lane that grows its limit may fill it
// before the next check; the sum of the growth in one check is at most the
// memory still free under the grow threshold, so the next check sees the
// ratio at most there (plus what else grew), never past the watermark in one
// step. Idle lanes use none of what they were granted, so the ratio stays
// low and they grow again at the next check: they get back to their bounds
// in a few checks.
#include "server/memory_pressure.h"

#include <algorithm>
#include <cmath>

namespace plancache::internal {
namespace {

uint64_t share_of(uint64_t bytes, double share) {
  return static_cast<uint64_t>(std::llround(static_cast<double>(bytes) * share));
}

}  // namespace

PressureAction PressureController::decide(const MemoryReading& reading) {
  if (reading.limit_bytes == 0) return PressureAction::kHold;
  const double ratio = reading.ratio();
  if (ratio >= options_.high_watermark) {
    episode_ = true;
    return PressureAction::kEvict;
  }
  if (episode_) {
    if (ratio >= options_.high_watermark - options_.stop_gap) return PressureAction::kEvict;
    episode_ = false;
  }
  if (ratio < options_.high_watermark - options_.grow_gap) return PressureAction::kGrow;
  return PressureAction::kHold;
}

uint64_t shrunk_limit(const LaneSize& lane, const PressureOptions& options) {
  const uint64_t floor = std::max<uint64_t>(1, share_of(lane.bound, options.min_lane_share));
  uint64_t limit = std::max(lane.bytes, floor);
  if (lane.limit != 0) limit = std::min(limit, lane.limit);
  return std::min(limit, lane.bound);
}

std::vector<uint64_t> grown_limits(const std::vector<LaneSize>& lanes, uint64_t headroom,
                                   const PressureOptions& options) {
  std::vector<uint64_t> out;
  out.reserve(lanes.size());
  const auto shrunken = static_cast<uint64_t>(
      std::count_if(lanes.begin(), lanes.end(), [](const LaneSize& l) { return l.limit != 0; }));
  const uint64_t part = shrunken == 0 ? 0 : headroom / shrunken;
  for (const LaneSize& lane : lanes) {
    if (lane.limit == 0) {
      out.push_back(0);
      continue;
    }
    const uint64_t step = std::min(part, share_of(lane.bound, options.grow_step));
    const uint64_t limit = lane.limit + step;
    out.push_back(limit >= lane.bound ? 0 : limit);
  }
  return out;
}

uint64_t grow_headroom(const MemoryReading& reading, const PressureOptions& options) {
  if (reading.limit_bytes == 0) return 0;
  const double threshold =
      static_cast<double>(reading.limit_bytes) * (options.high_watermark - options.grow_gap);
  const double free = threshold - static_cast<double>(reading.used_bytes);
  return free <= 0 ? 0 : static_cast<uint64_t>(free);
}

}  // namespace plancache::internal
