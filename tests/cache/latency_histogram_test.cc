// LatencyHistogram: percentiles are bucket upper bounds capped at the
// largest duration seen, and the sum is exact.
#include "cache/latency_histogram.h"

#include <gtest/gtest.h>

namespace plancache::internal {
namespace {

TEST(LatencyHistogram, EmptyIsAllZero) {
  const LatencySummary s = LatencyHistogram().summary();
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.sum_us, 0.0);
  EXPECT_EQ(s.p99_us, 0.0);
  EXPECT_EQ(s.max_us, 0.0);
}

// The case of the report: one get of 22,352 ns has its bucket's bound
// (22,527 ns) as p99 unless capped.
TEST(LatencyHistogram, OneValueIsEveryPercentile) {
  LatencyHistogram h;
  h.record(22'352);
  const LatencySummary s = h.summary();
  EXPECT_EQ(s.count, 1u);
  EXPECT_DOUBLE_EQ(s.max_us, 22.352);
  EXPECT_DOUBLE_EQ(s.p50_us, 22.352);
  EXPECT_DOUBLE_EQ(s.p99_us, 22.352);
  EXPECT_DOUBLE_EQ(s.sum_us, 22.352);
}

TEST(LatencyHistogram, PercentilesAreOrderedAndWithinTheBucketError) {
  LatencyHistogram h;
  uint64_t sum = 0;
  for (int64_t ns = 1000; ns <= 100'000; ns += 7) {
    h.record(ns);
    sum += static_cast<uint64_t>(ns);
  }
  const LatencySummary s = h.summary();
  EXPECT_LE(s.p50_us, s.p99_us);
  EXPECT_LE(s.p99_us, s.max_us);
  EXPECT_NEAR(s.p50_us, 50.5, 50.5 * 0.13);
  EXPECT_NEAR(s.p99_us, 99.0, 99.0 * 0.13);
  EXPECT_DOUBLE_EQ(s.sum_us, static_cast<double>(sum) / 1000.0);
  EXPECT_DOUBLE_EQ(s.max_us, 99.994);
}

TEST(LatencyHistogram, AnyPercentileBySummarysRule) {
  LatencyHistogram h;
  EXPECT_EQ(h.percentile_us(0.5), 0.0);
  for (int64_t ns = 1000; ns <= 100'000; ns += 7) h.record(ns);
  const LatencySummary s = h.summary();
  EXPECT_EQ(h.percentile_us(0.50), s.p50_us);
  EXPECT_EQ(h.percentile_us(0.99), s.p99_us);
  EXPECT_NEAR(h.percentile_us(0.90), 90.1, 90.1 * 0.13);
  EXPECT_LE(h.percentile_us(0.99), h.percentile_us(0.999));
  EXPECT_LE(h.percentile_us(0.999), s.max_us);
  EXPECT_EQ(h.percentile_us(1.0), s.max_us);
  EXPECT_EQ(h.percentile_us(2.0), s.max_us) << "q is clamped to [0, 1]";
}

TEST(LatencyHistogram, NegativeDurationsCountAsZero) {
  LatencyHistogram h;
  h.record(-5);
  EXPECT_EQ(h.summary().count, 1u);
  EXPECT_EQ(h.summary().p99_us, 0.0);
}

}  // namespace
}  // namespace plancache::internal
