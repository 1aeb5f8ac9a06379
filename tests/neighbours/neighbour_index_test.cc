// NeighbourIndex: bounds, upkeep (upsert / erase / clear), same-goal and
// nearest-context lookups, and every similar() decision.
#include "neighbours/neighbour_index.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <thread>

namespace plancache::internal {
namespace {

constexpr std::string_view kCtx = R"({"repo":"shop"})";

std::string key(int i) { return "k" + std::to_string(i); }

TEST(NeighbourIndex, EffectiveFloorOnlyRises) {
  EXPECT_DOUBLE_EQ(effective_min_score(0.5, std::nullopt), kSimilarScoreFloor);
  EXPECT_DOUBLE_EQ(effective_min_score(0.95, 0.5), 0.95);
  EXPECT_DOUBLE_EQ(effective_min_score(0.95, 0.97), 0.97);
  EXPECT_DOUBLE_EQ(effective_min_score(std::nan(""), std::nan("")), kSimilarScoreFloor);
  EXPECT_DOUBLE_EQ(effective_min_score(2.0, std::nullopt), 1.0);
}

TEST(NeighbourIndex, BoundDropsOldestInsertedFirst) {
  NeighbourIndex index(NeighbourIndexOptions{.max_entries = 3, .max_bytes = 0});
  for (int i = 0; i < 5; ++i) index.upsert(key(i), "goal " + std::to_string(i), kCtx, 1);
  EXPECT_EQ(index.size(), 3u);
  EXPECT_TRUE(index.same_goal("goal 0", "", 10).empty());
  EXPECT_TRUE(index.same_goal("goal 1", "", 10).empty());
  EXPECT_EQ(index.same_goal("goal 4", "", 10).size(), 1u);
  EXPECT_EQ(index.stats().dropped, 2u);
}

TEST(NeighbourIndex, RefreshCountsAsANewInsertion) {
  NeighbourIndex index(NeighbourIndexOptions{.max_entries = 2, .max_bytes = 0});
  index.upsert("a", "goal a", kCtx, 1);
  index.upsert("b", "goal b", kCtx, 1);
  index.upsert("a", "goal a", kCtx, 7);  // refresh: "b" is now the oldest
  index.upsert("c", "goal c", kCtx, 1);
  EXPECT_EQ(index.size(), 2u);
  ASSERT_EQ(index.same_goal("goal a", "", 10).size(), 1u);
  EXPECT_EQ(index.same_goal("goal a", "", 10)[0].compute_ms, 7);
  EXPECT_TRUE(index.same_goal("goal b", "", 10).empty());
}

TEST(NeighbourIndex, ManyRefreshesKeepTheFifoBounded) {
  NeighbourIndex index(NeighbourIndexOptions{.max_entries = 4, .max_bytes = 0});
  for (int round = 0; round < 2000; ++round) index.upsert(key(round % 4), "g", kCtx, round);
  EXPECT_EQ(index.size(), 4u);
  EXPECT_EQ(index.stats().dropped, 0u);
  EXPECT_LT(index.stats().memory_bytes, size_t{64} << 10);
}

TEST(NeighbourIndex, ByteBoundAndOversizedEntries) {
  const std::string context(2000, 'x');
  // Each entry is ~2.5 KB: about 40 fit in 100 KB.
  NeighbourIndex index(NeighbourIndexOptions{.max_entries = 1000, .max_bytes = 100'000});
  for (int i = 0; i < 100; ++i) index.upsert(key(i), "goal " + std::to_string(i), context, 1);
  EXPECT_LT(index.size(), 50u);
  EXPECT_GT(index.size(), 20u);
  EXPECT_EQ(index.stats().dropped, 100u - index.size());
  EXPECT_TRUE(index.same_goal("goal 0", "", 1).empty());
  EXPECT_EQ(index.same_goal("goal 99", "", 1).size(), 1u);
  index.upsert("huge", "huge goal", std::string(10'000, 'y'), 1);  // > max_bytes / 16
  EXPECT_TRUE(index.same_goal("huge goal", "", 1).empty());
}

TEST(NeighbourIndex, EraseAndClearKeepInStep) {
  NeighbourIndex index;
  index.upsert("a", "restart nginx", kCtx, 1);
  index.upsert("b", "restart nginx", R"({"repo":"blog"})", 1);
  index.erase("a");
  index.erase("unknown");
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(index.similar("Restart nginx", kCtx).decision, SimilarDecision::kContextDiffers);
  index.erase("b");
  EXPECT_EQ(index.similar("Restart nginx", kCtx).decision, SimilarDecision::kNone);
  EXPECT_EQ(index.stats().terms, 0u);
  index.upsert("c", "restart nginx", kCtx, 1);
  index.clear();
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.stats().postings, 0u);
  EXPECT_EQ(index.similar("restart nginx", kCtx).decision, SimilarDecision::kNone);
}

TEST(NeighbourIndex, ErasedSlotsAreReusedWithoutStalePostings) {
  NeighbourIndex index;
  for (int i = 0; i < 200; ++i)
    index.upsert(key(i), "deploy service " + std::to_string(i), kCtx, 1);
  for (int i = 0; i < 200; ++i) index.erase(key(i));
  index.upsert("new", "summarise the article", kCtx, 1);
  const SimilarResult r = index.similar("deploy service 7", kCtx);
  EXPECT_TRUE(r.decision == SimilarDecision::kNone || r.best->key == "new");
  EXPECT_LT(index.stats().postings, 100u);  // stale postings were compacted or freed
}

TEST(NeighbourIndex, SameGoalDifferentContexts) {
  NeighbourIndex index;
  index.upsert("a", "deploy the app", R"({"env":"a"})", 10);
  index.upsert("b", "deploy the app", R"({"env":"b"})", 20);
  index.upsert("c", "deploy the app", R"({"env":"c"})", 30);
  index.upsert("d", "deploy the web", R"({"env":"a"})", 40);
  const std::vector<Neighbour> n = index.same_goal("deploy the app", "b", 10);
  ASSERT_EQ(n.size(), 2u);
  EXPECT_EQ(n[0].key, "c");  // newest first
  EXPECT_EQ(n[0].context, R"({"env":"c"})");
  EXPECT_EQ(n[0].compute_ms, 30);
  EXPECT_EQ(n[1].key, "a");
  EXPECT_EQ(index.same_goal("deploy the app", "", 1).size(), 1u);
}

TEST(NeighbourIndex, NearestByContextPicksTheSmallestChange) {
  NeighbourIndex index;
  const std::string base = R"({"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10})";
  index.upsert("far", "plan the release", R"({"a":0,"b":0,"c":0,"d":0,"e":5})", 1);
  index.upsert("near", "plan the release", base, 2);
  index.upsert("other", "plan another release", base, 3);
  const std::string query = R"({"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":11})";
  const auto got = index.nearest_by_context("plan the release", query);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->entry.key, "near");
  EXPECT_DOUBLE_EQ(got->impact, 0.1);
  ASSERT_EQ(got->patch.size(), 1u);
  EXPECT_EQ(got->patch[0]["path"], "/j");
  // The exact context is the exact entry, not a neighbour.
  const auto self = index.nearest_by_context("plan the release", base);
  ASSERT_TRUE(self.has_value());
  EXPECT_EQ(self->entry.key, "far");
  EXPECT_FALSE(index.nearest_by_context("unknown goal", query).has_value());
  EXPECT_FALSE(index.nearest_by_context("plan the release", "not json").has_value());
}

TEST(NeighbourIndex, SimilarServesARewordingWithEqualContext) {
  NeighbourIndex index;
  index.upsert("a", "Deploy the web app to staging", kCtx, 1200);
  index.upsert("b", "restart nginx", kCtx, 5);
  const SimilarResult r = index.similar("deploy web app to staging", kCtx);
  EXPECT_EQ(r.decision, SimilarDecision::kServe);
  ASSERT_TRUE(r.best.has_value());
  EXPECT_EQ(r.best->key, "a");
  EXPECT_EQ(r.best->goal, "Deploy the web app to staging");
  EXPECT_EQ(r.best->compute_ms, 1200);
  EXPECT_GE(r.best->score, kSimilarScoreFloor);
  EXPECT_FALSE(r.veto.has_value());
  EXPECT_DOUBLE_EQ(r.min_score, kSimilarScoreFloor);
  EXPECT_GT(r.candidates_scored, 0u);
}

TEST(NeighbourIndex, SimilarRefusesAnotherContext) {
  NeighbourIndex index;
  index.upsert("a", "deploy the web app to staging", R"({"repo":"blog"})", 1);
  const SimilarResult r = index.similar("deploy web app to staging", kCtx);
  EXPECT_EQ(r.decision, SimilarDecision::kContextDiffers);
  EXPECT_FALSE(r.best.has_value());
  EXPECT_GT(r.best_near_miss_score, 0.9);
}

TEST(NeighbourIndex, SimilarVetoesANearMiss) {
  NeighbourIndex index;
  index.upsert("a", "scale the web service to 3 replicas", kCtx, 1);
  const SimilarResult r = index.similar("scale the web service to 5 replicas", kCtx);
  EXPECT_FALSE(r.served());
  ASSERT_TRUE(r.veto.has_value());
  EXPECT_EQ(*r.veto, VetoReason::kNumber);
  EXPECT_GT(r.best_near_miss_score, 0.0);
  // Shadow mode reads the candidate it would have served.
  ASSERT_TRUE(r.best.has_value());
  EXPECT_EQ(r.best->key, "a");
}

TEST(NeighbourIndex, SimilarVetoesAboveTheFloor) {
  NeighbourIndex index;
  index.upsert("a", "convert celsius to fahrenheit", kCtx, 1);
  const SimilarResult r = index.similar("convert fahrenheit to celsius", kCtx);
  EXPECT_EQ(r.decision, SimilarDecision::kVetoed);
  EXPECT_GE(r.best->score, 0.99);
  EXPECT_EQ(r.veto, VetoReason::kWordOrder);
}

TEST(NeighbourIndex, LongGoalsAreNotIndexed) {
  NeighbourIndex index(
      NeighbourIndexOptions{.max_entries = 10, .max_bytes = 0, .max_goal_bytes = 64});
  const std::string long_goal = "deploy " + std::string(100, 'x');
  index.upsert("a", "deploy the app", kCtx, 1);
  index.upsert("a", long_goal, kCtx, 1);  // the key now names a long goal: dropped
  index.upsert("b", long_goal, kCtx, 1);
  EXPECT_EQ(index.size(), 0u);
  index.upsert("c", "deploy the app", kCtx, 1);
  EXPECT_EQ(index.similar(long_goal, kCtx).decision, SimilarDecision::kNone);
}

TEST(NeighbourIndex, SimilarBelowFloorAndClientFloor) {
  NeighbourIndex index;
  index.upsert("a", "run the webapp", kCtx, 1);  // veto-clean, but shares few grams
  const SimilarResult r = index.similar("run the web app", kCtx);
  EXPECT_EQ(r.decision, SimilarDecision::kBelowFloor);
  EXPECT_FALSE(r.veto.has_value());
  EXPECT_LT(r.best->score, kSimilarScoreFloor);
  // A floor below the default is raised to it.
  SimilarOptions low;
  low.min_score = 0.1;
  EXPECT_EQ(index.similar("run the web app", kCtx, low).decision, SimilarDecision::kBelowFloor);
  EXPECT_DOUBLE_EQ(index.similar("run the web app", kCtx, low).min_score, kSimilarScoreFloor);
}

TEST(NeighbourIndex, SimilarNeedsAMarginOverADifferentRunnerUp) {
  NeighbourIndex index;
  index.upsert("a", "restart nginx on staging", kCtx, 1);
  index.upsert("b", "restart nginx on staging now", kCtx, 1);
  SimilarOptions wide;
  wide.margin = 0.5;
  const SimilarResult r = index.similar("restart nginx on staging", kCtx, wide);
  EXPECT_EQ(r.decision, SimilarDecision::kNoMargin);
  EXPECT_GT(r.second_score, 0.5);
  // With the default margin the exact rewording wins clearly.
  EXPECT_EQ(index.similar("Restart nginx on staging.", kCtx).decision, SimilarDecision::kServe);
}

TEST(NeighbourIndex, TwoRewordingsOfOneGoalAreNoAmbiguity) {
  NeighbourIndex index;
  index.upsert("a", "install docker", kCtx, 1);
  index.upsert("b", "installing docker", kCtx, 1);
  const SimilarResult r = index.similar("Install Docker", kCtx);
  EXPECT_EQ(r.decision, SimilarDecision::kServe);
  EXPECT_EQ(r.best->key, "b");  // equal scores: the newer entry
  EXPECT_DOUBLE_EQ(r.second_score, 0.0);
}

TEST(NeighbourIndex, HardFieldsRelaxTheContext) {
  NeighbourIndex index;
  index.upsert("a", "deploy the web app", R"({"repo":"shop","request_note":"x","env":"eu"})", 1);
  SimilarOptions hard;
  hard.hard_fields = {"repo", "env"};
  const std::string q = R"({"env":"eu","repo":"shop","request_note":"y"})";
  EXPECT_EQ(index.similar("deploy web app", q, hard).decision, SimilarDecision::kServe);
  EXPECT_EQ(index.similar("deploy web app", q).decision, SimilarDecision::kContextDiffers);
  const std::string other_env = R"({"env":"us","repo":"shop"})";
  EXPECT_EQ(index.similar("deploy web app", other_env, hard).decision,
            SimilarDecision::kContextDiffers);
  // A hard field present on one side only differs.
  const std::string no_env = R"({"repo":"shop","request_note":"x"})";
  EXPECT_EQ(index.similar("deploy web app", no_env, hard).decision,
            SimilarDecision::kContextDiffers);
  // The same goal with another soft context is served too.
  EXPECT_EQ(index.similar("deploy the web app", q, hard).best->key, "a");
  // A context that is not an object must be equal whole.
  index.upsert("b", "list the users", "[1,2]", 1);
  EXPECT_EQ(index.similar("list users", "[1,3]", hard).decision, SimilarDecision::kContextDiffers);
  EXPECT_EQ(index.similar("list users", "[1,2]", hard).decision, SimilarDecision::kServe);
}

TEST(NeighbourIndex, CandidateRetrievalIsCapped) {
  NeighbourIndex index;
  for (int i = 0; i < 5000; ++i) {
    index.upsert(key(i), "restart worker " + std::to_string(i) + " in the cluster", kCtx, 1);
  }
  index.upsert("target", "rebalance the kafka partitions", kCtx, 1);
  SimilarOptions capped;
  capped.max_postings = 1000;
  capped.max_candidates = 8;
  // A rewording, so the same-goal shortcut cannot find it: retrieval must.
  SimilarResult r = index.similar("Restart worker 17 in the cluster.", kCtx, capped);
  EXPECT_LE(r.postings_examined, 1000u);
  EXPECT_LE(r.candidates_scored, 8u);
  ASSERT_TRUE(r.best.has_value());
  EXPECT_EQ(r.best->key, "k17");  // rare grams ("17") are read first
  EXPECT_EQ(r.decision, SimilarDecision::kServe);
  r = index.similar("Rebalance the Kafka partitions", kCtx, capped);
  EXPECT_EQ(r.decision, SimilarDecision::kServe);
  EXPECT_EQ(r.best->key, "target");
}

TEST(NeighbourIndex, ConcurrentLookupsAndUpdates) {
  NeighbourIndex index(NeighbourIndexOptions{.max_entries = 500, .max_bytes = 0});
  std::thread writer([&index] {
    for (int i = 0; i < 3000; ++i) {
      index.upsert(key(i), "sync bucket " + std::to_string(i % 700), kCtx, i);
      if (i % 3 == 0) index.erase(key(i - 1));
    }
  });
  std::thread reader([&index] {
    for (int i = 0; i < 1500; ++i) {
      const SimilarResult r = index.similar("sync bucket " + std::to_string(i % 700), kCtx);
      if (r.served()) {
        EXPECT_EQ(r.best->goal, "sync bucket " + std::to_string(i % 700));
      }
      index.same_goal("sync bucket 3", "", 5);
    }
  });
  writer.join();
  reader.join();
  EXPECT_LE(index.size(), 500u);
}

}  // namespace
}  // namespace plancache::internal
