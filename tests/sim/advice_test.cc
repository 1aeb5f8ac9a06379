// Advice from an access log (sim/advice.h) on synthetic logs whose answer is
// known: a hot set of 200 keys re-requested every 10 s among one-hit
// wonders, logged at a 0.5 key sample.
#include "sim/advice.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "support/temp_dir.h"

namespace plancache::internal {
namespace {

constexpr int kHotKeys = 200;
constexpr int kRounds = 20;
constexpr int64_t kRoundMs = 10'000;

// Every round: each hot key once (a get; a put after its first miss), and
// 100 keys never seen again. Hot plans cost 1 s, the others 10 ms.
void write_log(const std::string& path) {
  std::ofstream out(path);
  int64_t t = 1'790'000'000'000;
  int wonder = 0;
  for (int round = 0; round < kRounds; ++round, t += kRoundMs) {
    for (int k = 0; k < kHotKeys; ++k) {
      const std::string key = "\"hot-" + std::to_string(k) + "\"";
      const std::string head = "{\"t\":" + std::to_string(t) + ",\"ns\":\"docs\",\"key\":" + key;
      if (round == 0) {
        out << head << ",\"op\":\"get\",\"hit\":false}\n";
        out << head << ",\"op\":\"put\",\"size\":4096,\"cost_ms\":1000}\n";
      } else {
        out << head << ",\"op\":\"get\",\"hit\":true,\"size\":4096,\"cost_ms\":1000}\n";
      }
      if (k % 2 == 0) {
        const std::string w = "\"once-" + std::to_string(wonder++) + "\"";
        out << "{\"t\":" << t << ",\"ns\":\"docs\",\"key\":" << w
            << ",\"op\":\"get\",\"hit\":false}\n";
        out << "{\"t\":" << t << ",\"ns\":\"docs\",\"key\":" << w
            << ",\"op\":\"put\",\"size\":100,\"cost_ms\":10}\n";
      }
    }
  }
}

class AdviceTest : public ::testing::Test {
 protected:
  void SetUp() override { write_log(dir_.file("access.jsonl")); }
  AdviceOptions options() {
    AdviceOptions o;
    o.paths = {dir_.file("access.jsonl.1"), dir_.file("access.jsonl")};  // .1 missing: skipped
    o.sample = 0.5;
    return o;
  }
  plancache::testing::TempDir dir_;
};

TEST_F(AdviceTest, TheSizeIsTheHotSetScaledByTheSample) {
  auto advice = advise_from_access_log(options());
  ASSERT_TRUE(advice.is_ok()) << advice.status().to_string();
  ASSERT_EQ(advice->lanes.size(), 1u);
  const LaneAdvice& lane = advice->lanes[0];
  EXPECT_EQ(lane.ns, "docs");
  EXPECT_EQ(lane.requests, uint64_t{kHotKeys * kRounds + kHotKeys / 2 * kRounds});
  EXPECT_EQ(lane.unique_keys, uint64_t{kHotKeys + kHotKeys / 2 * kRounds});
  // The knee is the hot set (200 keys of the sample): no smaller L1 holds it,
  // and the ladder's next step above it is under twice it. Scaled by 1/0.5.
  EXPECT_GE(lane.entries, uint64_t{2 * kHotKeys});
  EXPECT_LE(lane.entries, uint64_t{4 * kHotKeys});
  EXPECT_GT(lane.hit_rate, 0.9 * (kRounds - 1) * kHotKeys / double(lane.requests));
  EXPECT_GT(lane.bytes, lane.entries * 100);
  EXPECT_NE(lane.size_basis.find("knee"), std::string::npos) << lane.size_basis;
}

TEST_F(AdviceTest, TheTtlCoversNineInTenReRequests) {
  auto advice = advise_from_access_log(options());
  ASSERT_TRUE(advice.is_ok());
  const LaneAdvice& lane = advice->lanes[0];
  ASSERT_TRUE(lane.ttl_s.has_value()) << lane.ttl_basis;
  EXPECT_EQ(*lane.ttl_s, kRoundMs / 1000);
  EXPECT_NE(lane.ttl_basis.find("re-requests"), std::string::npos);
}

TEST_F(AdviceTest, PlannerSecondsSavedAreScaledToADayAndToAllKeys) {
  auto advice = advise_from_access_log(options());
  ASSERT_TRUE(advice.is_ok());
  const LaneAdvice& lane = advice->lanes[0];
  // Only hot plans (1 s each) are ever re-requested.
  const double hits = lane.hit_rate * static_cast<double>(lane.requests);
  const double span_s = (kRounds - 1) * kRoundMs / 1000.0;
  EXPECT_NEAR(lane.planner_seconds_saved_per_day, hits * 1.0 / 0.5 * 86'400 / span_s, 1.0);
  EXPECT_FALSE(lane.saved_per_day_by_policy.empty());
}

TEST_F(AdviceTest, ATargetHitRatePicksTheSmallestSizeReachingIt) {
  AdviceOptions o = options();
  o.target_hit_rate = 0.99;  // out of reach: one-hit wonders are a third of the requests
  auto advice = advise_from_access_log(o);
  ASSERT_TRUE(advice.is_ok());
  EXPECT_NE(advice->lanes[0].size_basis.find("out of reach"), std::string::npos);
  o.target_hit_rate = 0.05;
  advice = advise_from_access_log(o);
  ASSERT_TRUE(advice.is_ok());
  EXPECT_LT(advice->lanes[0].entries, uint64_t{2 * kHotKeys}) << "a small L1 reaches 5 %";
  EXPECT_NE(advice->lanes[0].size_basis.find("target"), std::string::npos);
}

TEST_F(AdviceTest, TheLanesCurrentSizeIsSimulatedToo) {
  NamespacePolicies current;
  NamespacePolicy docs = current.get("docs");
  docs.memory.max_entries = 100;  // half the hot set at 0.5: 50 sampled entries
  ASSERT_TRUE(current.set("docs", docs).is_ok());
  AdviceOptions o = options();
  o.current = &current;
  auto advice = advise_from_access_log(o);
  ASSERT_TRUE(advice.is_ok());
  const LaneAdvice& lane = advice->lanes[0];
  EXPECT_EQ(lane.current_entries, 100u);
  EXPECT_LT(lane.current_hit_rate, lane.hit_rate);
}

TEST(AdviceErrors, ABadLineIsNamedAndNoLogIsNotFound) {
  plancache::testing::TempDir dir;
  {
    std::ofstream out(dir.file("bad.jsonl"));
    out << "{\"t\":1,\"ns\":\"a\",\"key\":\"k\",\"op\":\"get\"}\nnot json\n";
  }
  AdviceOptions o;
  o.paths = {dir.file("bad.jsonl")};
  auto bad = advise_from_access_log(o);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("bad.jsonl:2"), std::string::npos)
      << bad.status().message();
  o.paths = {dir.file("missing.jsonl")};
  EXPECT_EQ(advise_from_access_log(o).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace plancache::internal
