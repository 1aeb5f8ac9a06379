// Cache sizes for `plancache simulate`: the --sizes list, the ladder that
// `--sizes auto` evaluates, and the knee picked on it.
//
// Knee rule: the smallest size of the ladder whose hit rate reaches 90 % of
// the best hit rate on the ladder (the ladder ends at every distinct key, so
// the best is the hit rate with only compulsory misses). Beyond the knee, the
// whole rest of the ladder gains at most a tenth of what the cache achieves.
// Chosen over a geometric knee (Kneedle) because it is well defined on the
// near-straight curves of Zipf-like traces, where a curvature knee is not.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "plancache/status.h"
#include "sim/replay.h"

namespace plancache::internal {

inline constexpr double kKneeShare = 0.9;
inline constexpr int kLadderSteps = 16;

// "1000,10000", each a positive integer with an optional suffix: k, M, G
// (x1000) or KiB, MiB, GiB (x1024), case-insensitive. Errors:
// invalid_argument naming the bad item.
Result<std::vector<uint64_t>> parse_sizes(std::string_view text);

// `steps` sizes, geometric from max(1, universe / 1000) to universe (the
// distinct keys, or their charged bytes), ascending, without duplicates.
std::vector<uint64_t> size_ladder(uint64_t universe, int steps = kLadderSteps);

double hit_rate(const SimResult& r);       // hits / requests, 0..1
double byte_hit_rate(const SimResult& r);  // bytes_hit / bytes_requested, 0..1

struct Knee {
  SimPolicy policy = SimPolicy::kTinyLfu;
  uint64_t size = 0;
  double hit_rate = 0;       // at `size`
  double best_hit_rate = 0;  // the best of `policy` over the results
};

// The knee of `policy`'s curve in `results`; nullopt when it has no result
// or never hits.
std::optional<Knee> find_knee(const std::vector<SimResult>& results, SimPolicy policy);

}  // namespace plancache::internal
