// LatencyHistogram: lock-free log-linear histogram of durations, for the
// p50/p99 figures in /v1/stats.
//
// Buckets: values below 16 ns share bucket 0..15 one per ns; above, each power
// of two is split into 8 linear sub-buckets (~12 % relative error), up to
// 2^40 ns (~18 min). record() is a few relaxed atomic adds; summary() reads
// a racy snapshot, which is fine for monitoring. A percentile is the upper
// bound of its bucket capped at the largest duration seen, so p50 <= p99 <=
// max always holds in a summary.
//
// Thread-safety: fully thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "plancache/cache.h"

namespace plancache::internal {

class LatencyHistogram {
 public:
  void record(int64_t nanos);
  LatencySummary summary() const;
  // The q-quantile (q in [0, 1]; 0.999 = p99.9) in microseconds, by the same
  // rule as summary()'s p50 / p99; 0 when nothing was recorded.
  double percentile_us(double q) const;

 private:
  static constexpr int kSubBits = 3;
  static constexpr int kMaxExponent = 40;
  static constexpr int kBuckets = (kMaxExponent + 1) << kSubBits;
  static int bucket_of(uint64_t nanos);
  static uint64_t bucket_upper_ns(int bucket);

  struct Snapshot {
    std::array<uint64_t, kBuckets> counts;
    uint64_t total = 0;
    uint64_t max_ns = 0;
  };
  Snapshot snapshot() const;
  static double percentile_of(const Snapshot& s, double q);

  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
  std::atomic<uint64_t> sum_ns_{0};
  std::atomic<uint64_t> max_ns_{0};
};

}  // namespace plancache::internal
