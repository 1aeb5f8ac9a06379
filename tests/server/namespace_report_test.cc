// fold_namespaces and the two renderings that use it: configured namespaces
// always shown, at most K unconfigured ones, the rest summed into "(other)".
#include "server/namespace_report.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "server/metrics.h"

namespace plancache::internal {
namespace {

TierStats tier(std::string name) {
  TierStats t;
  t.name = std::move(name);
  return t;
}

// L1 with "default" (configured) and u0..u{n-1} (unconfigured), ui holding
// i + 1 entries; L2 with u0 only.
CacheStats stats_with(int unconfigured) {
  CacheStats s;
  s.tiers = {tier("l1"), tier("l2")};
  s.tiers[0].namespaces["default"] = {.entries = 7, .bytes = 70, .hits = 1, .misses = 2};
  for (int i = 0; i < unconfigured; ++i) {
    const auto n = static_cast<uint64_t>(i + 1);
    s.tiers[0].namespaces["u" + std::to_string(i)] = {
        .entries = n, .bytes = 10 * n, .hits = n, .misses = 1};
  }
  s.tiers[1].namespaces["u0"] = {.entries = 1, .bytes = 5, .hits = 0, .misses = 3};
  return s;
}

TEST(FoldNamespaces, NothingChangesWithinTheLimit) {
  CacheStats s = stats_with(3);
  EXPECT_EQ(fold_namespaces(&s, nullptr, 3), 0u);
  EXPECT_EQ(s.tiers[0].namespaces.size(), 4u);
  EXPECT_EQ(s.tiers[0].namespaces.count(std::string(kOtherNamespaces)), 0u);
}

TEST(FoldNamespaces, KeepsTheLargestAndSumsTheRestPerTier) {
  CacheStats s = stats_with(10);
  EXPECT_EQ(fold_namespaces(&s, nullptr, 3), 7u);
  const auto& l1 = s.tiers[0].namespaces;
  ASSERT_EQ(l1.size(), 5u) << "default, u9, u8, u7 and (other)";
  for (const char* ns : {"default", "u9", "u8", "u7"}) EXPECT_EQ(l1.count(ns), 1u) << ns;
  const NamespaceCounters& other = l1.at(std::string(kOtherNamespaces));
  EXPECT_EQ(other.entries, 1u + 2 + 3 + 4 + 5 + 6 + 7);
  EXPECT_EQ(other.bytes, 10 * other.entries);
  EXPECT_EQ(other.hits, other.entries);
  EXPECT_EQ(other.misses, 7u);
  // L2 held only u0, which is folded: its row is L2's "(other)".
  const auto& l2 = s.tiers[1].namespaces;
  ASSERT_EQ(l2.size(), 1u);
  EXPECT_EQ(l2.at(std::string(kOtherNamespaces)).misses, 3u);
}

TEST(FoldNamespaces, ConfiguredNamespacesAreNeverFolded) {
  CacheStats s = stats_with(10);
  NamespacePolicies policies;
  ASSERT_TRUE(policies.set("u0", NamespacePolicy{}).is_ok());  // the smallest, now a lane
  EXPECT_EQ(fold_namespaces(&s, &policies, 0), 9u);
  const auto& l1 = s.tiers[0].namespaces;
  EXPECT_EQ(l1.size(), 3u) << "default, u0 and (other)";
  EXPECT_EQ(l1.at("u0").entries, 1u);
  EXPECT_EQ(l1.at("default").entries, 7u);
  EXPECT_EQ(s.tiers[1].namespaces.at("u0").misses, 3u);
}

TEST(FoldNamespaces, TiesGoByBytesThenName) {
  CacheStats s;
  s.tiers = {tier("l1")};
  s.tiers[0].namespaces["b"] = {.entries = 1, .bytes = 10};
  s.tiers[0].namespaces["a"] = {.entries = 1, .bytes = 10};
  s.tiers[0].namespaces["c"] = {.entries = 1, .bytes = 11};
  EXPECT_EQ(fold_namespaces(&s, nullptr, 2), 1u);
  EXPECT_EQ(s.tiers[0].namespaces.count("c"), 1u);
  EXPECT_EQ(s.tiers[0].namespaces.count("a"), 1u);
  EXPECT_EQ(s.tiers[0].namespaces.count("b"), 0u);
}

TEST(FoldNamespaces, OtherCannotBeANamespaceName) {
  EXPECT_FALSE(validate_namespace_name(kOtherNamespaces).is_ok());
}

// Samples (not comments) of `text` containing `needle`.
size_t count_lines_with(const std::string& text, const std::string& needle) {
  std::istringstream lines(text);
  size_t n = 0;
  for (std::string line; std::getline(lines, line);) {
    n += line[0] != '#' && line.find(needle) != std::string::npos;
  }
  return n;
}

TEST(FoldNamespaces, BothRenderingsAreBoundedAndSayHowManyWereFolded) {
  const HttpCounters http;
  const std::string text = prometheus_text(stats_with(5000), http, 1.0, nullptr, 100);
  // 5 namespace families x (l1: default + 100 + other; l2: other).
  EXPECT_EQ(count_lines_with(text, "plancache_namespace_entries{"), 103u);
  EXPECT_EQ(count_lines_with(text, "namespace=\"(other)\""), 10u);
  EXPECT_NE(text.find("plancache_namespaces_folded 4900\n"), std::string::npos);
  EXPECT_LT(text.size(), 64u * 1024);
  const nlohmann::json doc = stats_document(stats_with(5000), http, 1.0, nullptr, 100);
  EXPECT_EQ(doc["namespaces"].size(), 102u);
  EXPECT_EQ(doc["namespaces"]["(other)"]["count"], 4900);
  EXPECT_EQ(doc["namespaces"]["(other)"]["l2"]["misses"], 3);
  EXPECT_EQ(doc["tiers"][0]["namespaces"].size(), 102u);
  EXPECT_EQ(prometheus_text(stats_with(5), http, 1.0, nullptr, 100)
                    .find("plancache_namespaces_folded 0\n") != std::string::npos,
            true);
}

TEST(LatencySummaryRendering, IsASummaryWithSumAndCount) {
  CacheStats s;
  s.get_latency = {.count = 3, .sum_us = 30, .p50_us = 9, .p99_us = 12, .max_us = 12};
  const std::string text = prometheus_text(s, HttpCounters{}, 1.0, nullptr, 100);
  EXPECT_NE(text.find("# TYPE plancache_cache_get_latency_seconds summary\n"), std::string::npos);
  EXPECT_NE(text.find("plancache_cache_get_latency_seconds{quantile=\"0.99\"} 1.2e-05\n"),
            std::string::npos);
  EXPECT_NE(text.find("plancache_cache_get_latency_seconds_sum 3e-05\n"), std::string::npos);
  EXPECT_NE(text.find("plancache_cache_get_latency_seconds_count 3\n"), std::string::npos);
  EXPECT_NE(text.find("plancache_cache_get_latency_max_seconds 1.2e-05\n"), std::string::npos);
}

}  // namespace
}  // namespace plancache::internal
