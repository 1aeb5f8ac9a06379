// StatsHistory: the ring's bound, since=, the rates over each interval, and
// the timer, with an injected clock and a source the test controls.
#include "server/stats_history.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace plancache::internal {
namespace {

using nlohmann::json;

// A source whose reading the test sets between record() calls.
struct FakeSource {
  StatsReading reading;
  int calls = 0;
  StatsSource fn() {
    return [this] {
      ++calls;
      return reading;
    };
  }
  TierStats& tier(const std::string& name) {
    for (TierStats& t : reading.cache.tiers) {
      if (t.name == name) return t;
    }
    TierStats t;
    t.name = name;
    reading.cache.tiers.push_back(t);
    return reading.cache.tiers.back();
  }
  void gets(uint64_t hits, uint64_t misses) {
    reading.cache.hits = hits;
    reading.cache.misses = misses;
    reading.cache.gets = hits + misses;
  }
};

class StatsHistoryTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  FakeSource source_;
};

TEST_F(StatsHistoryTest, KeepsAtMostCapacitySnapshotsOldestFirst) {
  StatsHistory history(clock_, source_.fn(), {.capacity = 3});
  const int64_t t0 = clock_.now_ms();
  for (int i = 0; i < 5; ++i) {
    source_.gets(static_cast<uint64_t>(i), 0);
    history.record();
    clock_.advance_ms(10'000);
  }
  const auto all = history.since(0);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].time_ms, t0 + 20'000);
  EXPECT_EQ(all[1].time_ms, t0 + 30'000);
  EXPECT_EQ(all[2].time_ms, t0 + 40'000);
  EXPECT_EQ(all[2].hits, 4u);
  EXPECT_EQ(source_.calls, 5);
}

TEST_F(StatsHistoryTest, SinceReturnsOnlyLaterSnapshots) {
  StatsHistory history(clock_, source_.fn(), {.capacity = 10});
  const int64_t t0 = clock_.now_ms();
  for (int i = 0; i < 4; ++i) {
    history.record();
    clock_.advance_ms(1'000);
  }
  EXPECT_EQ(history.since(0).size(), 4u);
  EXPECT_EQ(history.since(t0).size(), 3u);  // strictly after
  ASSERT_EQ(history.since(t0 + 2'500).size(), 1u);
  EXPECT_EQ(history.since(t0 + 2'500)[0].time_ms, t0 + 3'000);
  EXPECT_TRUE(history.since(t0 + 3'000).empty());
}

TEST_F(StatsHistoryTest, RatesAreOverTheIntervalSinceThePreviousSnapshot) {
  StatsHistory history(clock_, source_.fn(), {.capacity = 10});
  source_.gets(3, 1);  // 75 % since start
  source_.reading.cache.get_latency = {.count = 4, .sum_us = 40, .p50_us = 8, .p99_us = 20};
  source_.reading.cache.compute_ms_saved = 1'500;
  source_.reading.planner_calls = 2;
  TierStats& l1 = source_.tier("l1");
  l1.hits = 3;
  l1.misses = 1;
  l1.namespaces["default"] = {.entries = 2, .bytes = 200, .hits = 3, .misses = 1, .evictions = 1};
  history.record();

  clock_.advance_ms(10'000);
  source_.gets(4, 5);  // this interval: 1 hit of 5 gets
  source_.reading.cache.get_latency = {.count = 9, .sum_us = 140, .p50_us = 9, .p99_us = 30};
  source_.tier("l1").hits = 4;
  source_.tier("l1").misses = 5;  // 1 of 5 again
  source_.tier("l2").misses = 0;  // no lookups: no rate
  history.record();

  clock_.advance_ms(5'000);
  history.record();  // nothing happened

  const auto s = history.since(0);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].interval_s, 0);
  ASSERT_TRUE(s[0].hit_rate.has_value());
  EXPECT_DOUBLE_EQ(*s[0].hit_rate, 0.75);
  EXPECT_DOUBLE_EQ(*s[0].get_mean_us, 10);
  EXPECT_DOUBLE_EQ(s[0].planner_seconds_saved, 1.5);
  EXPECT_EQ(s[0].planner_calls, 2u);
  ASSERT_EQ(s[0].lanes.size(), 1u);
  EXPECT_EQ(s[0].lanes[0].lane, "default");
  EXPECT_EQ(s[0].lanes[0].tier, "l1");
  EXPECT_EQ(s[0].lanes[0].evictions, 1u);
  EXPECT_EQ(s[0].lanes[0].bytes, 200u);

  EXPECT_DOUBLE_EQ(s[1].interval_s, 10);
  EXPECT_DOUBLE_EQ(*s[1].hit_rate, 0.2);
  EXPECT_DOUBLE_EQ(*s[1].get_mean_us, 20);  // 100 us over 5 gets
  EXPECT_DOUBLE_EQ(s[1].get_p99_us, 30);
  ASSERT_EQ(s[1].tiers.size(), 2u);
  EXPECT_DOUBLE_EQ(*s[1].tiers[0].hit_rate, 0.2);
  EXPECT_FALSE(s[1].tiers[1].hit_rate.has_value());

  EXPECT_DOUBLE_EQ(s[2].interval_s, 5);
  EXPECT_FALSE(s[2].hit_rate.has_value());
  EXPECT_FALSE(s[2].get_mean_us.has_value());
  EXPECT_EQ(s[2].gets, 9u);  // cumulative counters stay
}

TEST_F(StatsHistoryTest, RatesSurviveTheOldestSnapshotBeingDropped) {
  StatsHistory history(clock_, source_.fn(), {.capacity = 1});
  source_.gets(10, 0);
  history.record();
  clock_.advance_ms(10'000);
  source_.gets(10, 10);  // 0 of 10 in this interval
  history.record();
  const auto s = history.since(0);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_DOUBLE_EQ(*s[0].hit_rate, 0.0);
  EXPECT_DOUBLE_EQ(s[0].interval_s, 10);
}

TEST_F(StatsHistoryTest, ACounterThatGoesDownGivesNoNegativeDelta) {
  StatsHistory history(clock_, source_.fn(), {.capacity = 4});
  source_.gets(100, 100);
  history.record();
  clock_.advance_ms(1'000);
  source_.gets(1, 3);  // e.g. a restarted component: count its own values
  history.record();
  EXPECT_DOUBLE_EQ(*history.since(0).back().hit_rate, 0.25);
}

TEST_F(StatsHistoryTest, JsonHasTheDocumentedShape) {
  StatsHistory history(clock_, source_.fn(), {.capacity = 5, .interval = std::chrono::seconds(10)});
  source_.tier("l1");
  history.record();
  const json doc = history_json(history, 0, clock_.now_ms());
  EXPECT_EQ(doc["interval_s"], 10.0);
  EXPECT_EQ(doc["capacity"], 5);
  EXPECT_EQ(doc["now_ms"], clock_.now_ms());
  ASSERT_EQ(doc["snapshots"].size(), 1u);
  const json& s = doc["snapshots"][0];
  EXPECT_TRUE(s["hit_rate"].is_null());  // no gets yet
  EXPECT_TRUE(s["get_latency_us"]["mean"].is_null());
  for (const char* key : {"time_ms", "interval_s", "gets", "hits", "misses", "planner_calls",
                          "planner_seconds_saved", "tiers", "lanes"}) {
    EXPECT_TRUE(s.contains(key)) << key;
  }
  EXPECT_EQ(s["tiers"][0]["name"], "l1");
  EXPECT_EQ(s["tiers"][0]["state"], "ok");
  EXPECT_TRUE(history_json(history, clock_.now_ms(), clock_.now_ms())["snapshots"].empty());
}

TEST_F(StatsHistoryTest, TimerRecordsEveryIntervalAndStopsAtOnce) {
  StatsHistory history(clock_, source_.fn(),
                       {.capacity = 100, .interval = std::chrono::milliseconds(5)});
  history.start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (history.since(-1).size() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_GE(history.since(-1).size(), 3u);
  const auto before = std::chrono::steady_clock::now();
  history.stop();
  history.stop();  // idempotent
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(1));
}

TEST_F(StatsHistoryTest, StopWithoutStartIsFine) {
  StatsHistory history(clock_, source_.fn(), {.capacity = 2});
  history.stop();
  history.record();
  EXPECT_EQ(history.since(0).size(), 1u);
}

}  // namespace
}  // namespace plancache::internal
