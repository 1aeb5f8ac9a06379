// Sizes (--sizes, the auto ladder, the knee) and the outputs: table, JSON,
// SVG.
#include <gtest/gtest.h>

#include "sim/plot.h"
#include "sim/report.h"
#include "sim/sizes.h"

namespace plancache::internal {
namespace {

TEST(Sizes, ParseListsAndSuffixes) {
  Result<std::vector<uint64_t>> s = parse_sizes("1000, 10k,2M,64KiB,1MiB,1g");
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  EXPECT_EQ(*s, (std::vector<uint64_t>{1000, 10'000, 2'000'000, 65'536, 1'048'576, 1'000'000'000}));
  for (const char* bad : {"", "0", "10,", "ten", "5x", "-3", "99999999999999999999"}) {
    EXPECT_FALSE(parse_sizes(bad).is_ok()) << bad;
  }
  EXPECT_EQ(parse_sizes("5x").status().message(),
            "size '5x' has an unknown suffix (k, M, G, KiB, MiB, GiB)");
}

TEST(Sizes, LadderIsGeometricUpToTheUniverse) {
  const std::vector<uint64_t> ladder = size_ladder(100'000);
  ASSERT_EQ(ladder.size(), 16u);
  EXPECT_EQ(ladder.front(), 100u);
  EXPECT_EQ(ladder.back(), 100'000u);
  for (size_t i = 1; i < ladder.size(); ++i) {
    const double ratio = static_cast<double>(ladder[i]) / static_cast<double>(ladder[i - 1]);
    EXPECT_NEAR(ratio, 1.585, 0.01);  // 1000^(1/15)
  }
  // Small universes: no duplicates, from 1.
  const std::vector<uint64_t> small = size_ladder(5);
  EXPECT_EQ(small, (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(size_ladder(0), (std::vector<uint64_t>{1}));
}

SimResult result(SimPolicy p, uint64_t size, uint64_t hits, uint64_t requests = 100) {
  SimResult r;
  r.policy = p;
  r.size = size;
  r.requests = requests;
  r.hits = hits;
  r.bytes_requested = requests * 10;
  r.bytes_hit = hits * 10;
  r.cost_ms_requested = 1000.0 * static_cast<double>(requests);
  r.cost_ms_saved = 1000.0 * static_cast<double>(hits);
  return r;
}

TEST(Knee, SmallestSizeReachingNinetyPercentOfTheBest) {
  const std::vector<SimResult> curve = {
      result(SimPolicy::kTinyLfu, 10, 20), result(SimPolicy::kTinyLfu, 100, 44),
      result(SimPolicy::kTinyLfu, 1000, 45), result(SimPolicy::kTinyLfu, 10'000, 48),
      result(SimPolicy::kLru, 10, 47)};
  const std::optional<Knee> knee = find_knee(curve, SimPolicy::kTinyLfu);
  ASSERT_TRUE(knee.has_value());
  EXPECT_EQ(knee->size, 100u);  // 0.44 >= 0.9 * 0.48 = 0.432; 0.20 is below
  EXPECT_DOUBLE_EQ(knee->hit_rate, 0.44);
  EXPECT_DOUBLE_EQ(knee->best_hit_rate, 0.48);
}

TEST(Knee, NoneWithoutHits) {
  EXPECT_FALSE(find_knee({result(SimPolicy::kLru, 10, 0)}, SimPolicy::kLru).has_value());
  EXPECT_FALSE(find_knee({result(SimPolicy::kLru, 10, 5)}, SimPolicy::kTinyLfu).has_value());
}

SimReport sample_report(SizeUnit by = SizeUnit::kEntries) {
  SimReport report;
  report.trace = "/data/traces/lirs-gli.trace.gz";
  report.format = TraceFormat::kLirs;
  report.requests = 100;
  report.unique_keys = 40;
  report.by = by;
  report.has_costs = true;
  report.results = {result(SimPolicy::kLru, 1000, 20), result(SimPolicy::kOptimal, 1000, 50),
                    result(SimPolicy::kLru, 10, 5), result(SimPolicy::kOptimal, 10, 10)};
  order_results(&report.results);
  return report;
}

TEST(Report, OrderedBySizeKeepingPolicyOrder) {
  const SimReport report = sample_report();
  ASSERT_EQ(report.results.size(), 4u);
  EXPECT_EQ(report.results[0].size, 10u);
  EXPECT_EQ(report.results[0].policy, SimPolicy::kLru);
  EXPECT_EQ(report.results[1].policy, SimPolicy::kOptimal);
  EXPECT_EQ(report.results[2].size, 1000u);
}

TEST(Report, Table) {
  const std::string table = format_table(sample_report());
  EXPECT_EQ(table.rfind("trace lirs-gli.trace.gz (lirs): 100 requests, 40 distinct keys; sizes in "
                        "entries\n",
                        0),
            0u)
      << table;
  EXPECT_NE(table.find("policy             size   hit rate  byte hit rate  planner-s saved   "
                       "of optimal\n"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("lru                  10     5.00 %         5.00 %              5.0   "
                       "50.00 %\n"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("optimal: Belady's MIN"), std::string::npos);
  const std::string bytes = format_table(sample_report(SizeUnit::kBytes));
  EXPECT_NE(bytes.find("a heuristic bound and not the optimum"), std::string::npos) << bytes;
  EXPECT_NE(bytes.find("value + 160 bytes of entry overhead + the key"), std::string::npos)
      << bytes;
}

TEST(Report, Json) {
  SimReport report = sample_report();
  report.knee =
      Knee{.policy = SimPolicy::kLru, .size = 1000, .hit_rate = 0.2, .best_hit_rate = 0.2};
  const nlohmann::json doc = report_json(report);
  EXPECT_EQ(doc["trace"], "/data/traces/lirs-gli.trace.gz");
  EXPECT_EQ(doc["format"], "lirs");
  EXPECT_EQ(doc["requests"], 100);
  EXPECT_EQ(doc["unique_keys"], 40);
  EXPECT_EQ(doc["by"], "entries");
  ASSERT_EQ(doc["results"].size(), 4u);
  const nlohmann::json& lru = doc["results"][2];
  EXPECT_EQ(lru["policy"], "lru");
  EXPECT_EQ(lru["size"], 1000);
  EXPECT_EQ(lru["requests"], 100);
  EXPECT_EQ(lru["hits"], 20);
  EXPECT_DOUBLE_EQ(lru["hit_rate"].get<double>(), 0.2);
  EXPECT_DOUBLE_EQ(lru["byte_hit_rate"].get<double>(), 0.2);
  EXPECT_DOUBLE_EQ(lru["planner_seconds_saved"].get<double>(), 20.0);
  EXPECT_DOUBLE_EQ(lru["share_of_optimal"].get<double>(), 0.4);
  EXPECT_EQ(doc["knee"]["size"], 1000);
  EXPECT_EQ(doc["knee"]["policy"], "lru");
  // Without optimal there is no share.
  report.results = {result(SimPolicy::kLru, 10, 5)};
  EXPECT_FALSE(report_json(report)["results"][0].contains("share_of_optimal"));
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

TEST(Plot, SvgHasTitleAxesOneLinePerPolicyAndTwoPanels) {
  SimReport report = sample_report();
  report.trace = "traces/a&b.csv";
  report.knee =
      Knee{.policy = SimPolicy::kLru, .size = 1000, .hit_rate = 0.2, .best_hit_rate = 0.2};
  const std::string svg = render_svg(report);
  EXPECT_EQ(svg.rfind("<svg xmlns='http://www.w3.org/2000/svg'", 0), 0u);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  EXPECT_NE(svg.find("plancache simulate: a&amp;b.csv"), std::string::npos);
  EXPECT_NE(svg.find("hit rate (%)"), std::string::npos);
  EXPECT_NE(svg.find("planner-seconds saved"), std::string::npos);            // the trace has costs
  EXPECT_NE(svg.find("cache size (entries, log scale)"), std::string::npos);  // 10 .. 1000
  EXPECT_EQ(count(svg, "<polyline"), 4u);  // 2 policies x 2 panels
  EXPECT_NE(svg.find("optimal (Belady MIN)"), std::string::npos);
  EXPECT_NE(svg.find(">knee 1k<"), std::string::npos);
  EXPECT_NE(svg.find("<title>lru @ 10: 5</title>"), std::string::npos);
  // No costs: one panel; close sizes: a linear axis.
  report.has_costs = false;
  report.results = {result(SimPolicy::kLru, 100, 5), result(SimPolicy::kLru, 200, 9)};
  report.knee.reset();
  const std::string one = render_svg(report);
  EXPECT_EQ(count(one, "<polyline"), 1u);
  EXPECT_EQ(one.find("planner-seconds saved"), std::string::npos);
  EXPECT_NE(one.find("cache size (entries)"), std::string::npos);
}

}  // namespace
}  // namespace plancache::internal
