#include "cli/stats_table.h"

#include <gtest/gtest.h>

#include <sstream>

namespace plancache::cli {
namespace {

std::string render(const nlohmann::json& stats) {
  std::ostringstream out;
  render_stats_table(stats, out);
  return out.str();
}

TEST(StatsTableTest, ListsTopLevelScalarsInASummary) {
  const std::string text = render({{"l1_hits", 42}, {"l1_hit_rate", 0.666666}, {"l2_connected", false}});
  EXPECT_NE(text.find("summary"), std::string::npos);
  EXPECT_NE(text.find("  l1_hits       42\n"), std::string::npos) << text;
  EXPECT_NE(text.find("0.6667"), std::string::npos) << text;
  EXPECT_NE(text.find("false"), std::string::npos);
}

TEST(StatsTableTest, RendersObjectsOfObjectsAsATable) {
  const nlohmann::json stats = {
      {"namespaces",
       {{"default", {{"entries", 3}, {"hits", 10}, {"latency", {{"p99_us", 12.5}}}}},
        {"heavy", {{"entries", 1200}, {"misses", 7}}}}}};
  const std::string text = render(stats);
  // Header row with every column, in first-seen order.
  EXPECT_NE(text.find("namespaces  entries  hits  latency.p99_us  misses"), std::string::npos)
      << text;
  // A missing cell shows as '-'; numbers are right-aligned.
  EXPECT_NE(text.find("default           3    10            12.5       -"), std::string::npos)
      << text;
  EXPECT_NE(text.find("heavy          1200     -               -       7"), std::string::npos)
      << text;
}

TEST(StatsTableTest, ListsOtherObjectsAsDottedPairs) {
  const std::string text = render({{"server", {{"uptime_s", 5}, {"version", "0.1.0"}}}});
  EXPECT_NE(text.find("server\n"), std::string::npos) << text;
  EXPECT_NE(text.find("uptime_s  5"), std::string::npos) << text;
  EXPECT_NE(text.find("version   0.1.0"), std::string::npos) << text;
}

TEST(StatsTableTest, RendersArraysOfObjectsAsATableNamedByTheirNameField) {
  const nlohmann::json stats = {
      {"tiers", nlohmann::json::array({{{"name", "l1"}, {"entries", 5}, {"connected", true}},
                                       {{"name", "l2"}, {"entries", 70}}})}};
  const std::string text = render(stats);
  EXPECT_NE(text.find("tiers  connected  entries\n"), std::string::npos) << text;
  EXPECT_NE(text.find("l1          true        5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("l2             -       70\n"), std::string::npos) << text;
}

TEST(StatsTableTest, NonObjectFallsBackToJson) {
  EXPECT_EQ(render(nlohmann::json::array({1, 2})), "[\n  1,\n  2\n]\n");
}

}  // namespace
}  // namespace plancache::cli
