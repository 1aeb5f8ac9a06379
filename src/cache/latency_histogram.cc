#include "cache/latency_histogram.h"

#include <algorithm>
#include <bit>

namespace plancache::internal {

int LatencyHistogram::bucket_of(uint64_t nanos) {
  if (nanos < (1u << (kSubBits + 1))) return static_cast<int>(nanos);
  const int exponent = std::bit_width(nanos) - 1;  // >= kSubBits + 1
  if (exponent > kMaxExponent) return kBuckets - 1;
  const auto sub = static_cast<int>((nanos >> (exponent - kSubBits)) & ((1u << kSubBits) - 1));
  return ((exponent - kSubBits) << kSubBits) + sub;
}

uint64_t LatencyHistogram::bucket_upper_ns(int bucket) {
  if (bucket < (1 << (kSubBits + 1))) return static_cast<uint64_t>(bucket);
  const int exponent = (bucket >> kSubBits) + kSubBits;
  const uint64_t sub = static_cast<uint64_t>(bucket & ((1 << kSubBits) - 1));
  const uint64_t base = uint64_t{1} << exponent;
  const uint64_t step = base >> kSubBits;
  return base + (sub + 1) * step - 1;
}

void LatencyHistogram::record(int64_t nanos) {
  const uint64_t v = nanos < 0 ? 0 : static_cast<uint64_t>(nanos);
  counts_[static_cast<size_t>(bucket_of(v))].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(v, std::memory_order_relaxed);
  uint64_t prev = max_ns_.load(std::memory_order_relaxed);
  while (v > prev && !max_ns_.compare_exchange_weak(prev, v, std::memory_order_relaxed)) {
  }
}

LatencyHistogram::Snapshot LatencyHistogram::snapshot() const {
  Snapshot s;
  for (size_t i = 0; i < s.counts.size(); ++i) {
    s.counts[i] = counts_[i].load(std::memory_order_relaxed);
    s.total += s.counts[i];
  }
  s.max_ns = max_ns_.load(std::memory_order_relaxed);
  return s;
}

double LatencyHistogram::percentile_of(const Snapshot& s, double q) {
  if (s.total == 0) return 0;
  const double clamped = std::clamp(q, 0.0, 1.0);
  const auto rank = static_cast<uint64_t>(clamped * static_cast<double>(s.total - 1)) + 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < s.counts.size(); ++i) {
    seen += s.counts[i];
    if (seen >= rank) {
      const uint64_t upper = bucket_upper_ns(static_cast<int>(i));
      return static_cast<double>(std::min(upper, s.max_ns)) / 1000.0;
    }
  }
  return static_cast<double>(s.max_ns) / 1000.0;
}

double LatencyHistogram::percentile_us(double q) const { return percentile_of(snapshot(), q); }

LatencySummary LatencyHistogram::summary() const {
  const Snapshot s = snapshot();
  LatencySummary out;
  out.count = s.total;
  out.sum_us = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1000.0;
  out.max_us = static_cast<double>(s.max_ns) / 1000.0;
  out.p50_us = percentile_of(s, 0.50);
  out.p99_us = percentile_of(s, 0.99);
  return out;
}

}  // namespace plancache::internal
