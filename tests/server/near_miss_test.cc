// NearMiss (server/near_miss.h) and the near-miss compute
// (server/near_miss_compute.h) over a real memory-tier cache whose removal
// listener is the NearMiss's, with a fake planner that records what it is
// asked: the index follows puts and removals, the similar-goal lookup
// serves only what it may, incremental planning uses only a live base.
#include "server/near_miss.h"

#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "plancache/memory_tier.h"
#include "server/near_miss_compute.h"

namespace plancache::internal {
namespace {

using nlohmann::json;

// Answers every call with `answer`; remembers every request.
class RecordingPlanner final : public Planner {
 public:
  explicit RecordingPlanner(bool incremental) : incremental_(incremental) {}
  Result<std::string> plan(const PlanRequest& request) override {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    const bool inc = !request.incremental_json.empty();
    if (inc && fail_incremental_) return Status::bad_gateway("incremental failed");
    return inc ? incremental_answer_ : full_answer_;
  }
  std::string describe() const override { return "recording planner"; }
  void cancel_all() override {}
  bool accepts_incremental() const override { return incremental_; }

  std::vector<PlanRequest> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::string full_answer_ = R"({"steps":["full"]})";
  std::string incremental_answer_ =
      R"({"patch":[{"op":"replace","path":"/steps/0","value":"patched"}]})";
  bool fail_incremental_ = false;

 private:
  const bool incremental_;
  std::mutex mu_;  // guards requests_
  std::vector<PlanRequest> requests_;
};

Selector tag(const std::string& t) {
  Selector s;
  s.tag = t;
  return s;
}

json context_with(const std::string& env, int n_fields = 10) {
  json c = json::object();
  for (int i = 0; i < n_fields - 1; ++i) c["f" + std::to_string(i)] = i;
  c["env"] = env;
  return c;
}

class NearMissTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NamespacePolicy lane;
    lane.near_miss.incremental = true;
    lane.near_miss.max_change_impact = 0.3;
    lane.near_miss.similar_goal_min_score = 0.9;
    ASSERT_TRUE(policies_->set("nm", lane).is_ok());
    NamespacePolicy shadow;
    shadow.near_miss.similar_goal_min_score = 0.9;
    shadow.near_miss.similar_shadow = true;
    ASSERT_TRUE(policies_->set("shadow", shadow).is_ok());
    near_miss_ = std::make_unique<NearMiss>(*policies_);
    MemoryTierOptions l1;
    l1.clock = clock_;
    l1.removal_listener = near_miss_->removal_listener();
    CacheOptions options;
    options.tiers.push_back(std::move(new_memory_tier(std::move(l1))).value());
    options.clock = clock_;
    options.policies = policies_;
    cache_ = std::move(new_cache(std::move(options))).value();
  }

  PlanKey key(const std::string& ns, const std::string& goal, const json& context) {
    return std::move(builder_.plan_key(ns, goal, context.dump())).value();
  }
  // Stores `plan` under `k` as the server does: the cache, then the index.
  void store(const PlanKey& k, const std::string& plan, uint32_t compute_ms,
             std::vector<std::string> tags = {}) {
    PutOptions options;
    options.compute_ms = compute_ms;
    options.tags = std::move(tags);
    ASSERT_TRUE(cache_->put(k.key, std::make_shared<const Bytes>(plan), options).is_ok());
    near_miss_->stored(k, compute_ms);
  }
  NearMissLane& lane(const std::string& ns) { return *near_miss_->lane(ns); }
  static PlanRequest request_of(const PlanKey& k, const json& context) {
    PlanRequest r;
    r.goal = k.normalized_goal;
    r.context_json = context.dump();
    r.ns = std::string(k.key.ns());
    return r;
  }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  std::shared_ptr<NamespacePolicies> policies_ = std::make_shared<NamespacePolicies>();
  KeyBuilder builder_;
  std::unique_ptr<NearMiss> near_miss_;
  std::unique_ptr<Cache> cache_;
};

TEST_F(NearMissTest, OnlyLanesThatEnableAFeatureHaveAnIndex) {
  EXPECT_TRUE(near_miss_->any());
  EXPECT_NE(near_miss_->lane("nm"), nullptr);
  EXPECT_NE(near_miss_->lane("shadow"), nullptr);
  EXPECT_EQ(near_miss_->lane("default"), nullptr);
  EXPECT_EQ(near_miss_->lane("docs"), nullptr);
  EXPECT_EQ(near_miss_->lane("unconfigured"), nullptr);
  EXPECT_FALSE(NearMiss(NamespacePolicies()).any());
}

TEST_F(NearMissTest, TheIndexFollowsPutsAndEveryRemoval) {
  const PlanKey a = key("nm", "deploy the web app", context_with("prod"));
  const PlanKey b = key("nm", "deploy the web app", context_with("dev"));
  store(a, R"({"steps":["a"]})", 100, {"t"});
  store(b, R"({"steps":["b"]})", 100);
  EXPECT_EQ(lane("nm").index.size(), 2u);
  store(a, R"({"steps":["a2"]})", 100, {"t"});  // a replacement keeps the key
  EXPECT_EQ(lane("nm").index.size(), 2u);
  ASSERT_TRUE(cache_->invalidate(tag("t")).is_ok());  // by tag: the listener tells
  EXPECT_EQ(lane("nm").index.size(), 1u);
  ASSERT_TRUE(cache_->erase(b.key).is_ok());
  EXPECT_EQ(lane("nm").index.size(), 0u);
  store(a, R"({"steps":["a"]})", 100);
  near_miss_->cleared(std::string("other"));
  EXPECT_EQ(lane("nm").index.size(), 1u);
  near_miss_->cleared(std::nullopt);
  EXPECT_EQ(lane("nm").index.size(), 0u);
}

TEST_F(NearMissTest, ARewordingIsServedAndItsSavingCounted) {
  const json ctx = {{"env", "prod"}};
  store(key("nm", "restart the nginx server", ctx), R"({"steps":["restart"]})", 700);
  auto find = near_miss_->find_similar(*cache_, key("nm", "Restart nginx servers", ctx),
                                       std::nullopt, GetOptions{});
  ASSERT_TRUE(find.has_value());
  ASSERT_TRUE(find->served()) << similar_decision_name(find->result.decision);
  EXPECT_EQ(*find->entry->value, R"({"steps":["restart"]})");
  EXPECT_EQ(find->result.best->goal, "restart the nginx server");
  EXPECT_EQ(lane("nm").counters.similar_hits.load(), 1u);
  EXPECT_EQ(lane("nm").counters.planner_ms_saved_similar.load(), 700u);
  // Not in a lane without the lookup.
  EXPECT_FALSE(near_miss_->find_similar(*cache_, key("default", "Restart nginx servers", ctx),
                                        std::nullopt, GetOptions{}));
}

TEST_F(NearMissTest, VetoesAndTheClientFloorKeepAMissAMiss) {
  const json ctx = {{"env", "prod"}};
  store(key("nm", "scale the web service to 3 replicas", ctx), R"({"n":3})", 100);
  auto vetoed = near_miss_->find_similar(
      *cache_, key("nm", "scale the web service to 5 replicas", ctx), std::nullopt, GetOptions{});
  ASSERT_TRUE(vetoed.has_value());
  EXPECT_FALSE(vetoed->served());
  EXPECT_TRUE(vetoed->result.veto.has_value());
  EXPECT_EQ(lane("nm").counters.vetoes[static_cast<size_t>(VetoReason::kNumber)].load(), 1u);
  EXPECT_GT(vetoed->result.best_near_miss_score, 0.0);

  store(key("nm", "restart the nginx server", ctx), R"({"steps":["restart"]})", 100);
  const PlanKey reworded = key("nm", "Restart nginx servers", ctx);
  const auto& below_floor =
      lane("nm").counters.similar_misses[static_cast<size_t>(SimilarDecision::kBelowFloor)];
  const uint64_t below_before = below_floor.load();
  auto strict = near_miss_->find_similar(*cache_, reworded, 1.01, GetOptions{});
  EXPECT_FALSE(strict->served());
  EXPECT_EQ(strict->result.decision, SimilarDecision::kBelowFloor);
  auto loose = near_miss_->find_similar(*cache_, reworded, 0.5, GetOptions{});
  EXPECT_EQ(loose->result.min_score, kSimilarScoreFloor) << "a client never lowers the floor";
  EXPECT_TRUE(loose->served());
  EXPECT_EQ(below_floor.load(), below_before + 1) << "the strict client's miss";
}

TEST_F(NearMissTest, ANeighbourGoneFromTheCacheIsAMissAndForgotten) {
  const json ctx = {{"env", "prod"}};
  const PlanKey gone = key("nm", "restart the nginx server", ctx);
  near_miss_->stored(gone, 100);  // indexed, never stored: the index is behind
  auto find = near_miss_->find_similar(*cache_, key("nm", "Restart nginx servers", ctx),
                                       std::nullopt, GetOptions{});
  EXPECT_FALSE(find->served());
  EXPECT_EQ(lane("nm").counters.neighbour_gone.load(), 1u);
  EXPECT_EQ(lane("nm").index.size(), 0u);
}

TEST_F(NearMissTest, ShadowLanesNeverServe) {
  const json ctx = {{"env", "prod"}};
  store(key("shadow", "restart the nginx server", ctx), R"({"steps":["restart"]})", 100);
  auto find = near_miss_->find_similar(*cache_, key("shadow", "Restart nginx servers", ctx),
                                       std::nullopt, GetOptions{});
  ASSERT_TRUE(find.has_value());
  EXPECT_TRUE(find->result.served());
  EXPECT_FALSE(find->served());
}

TEST_F(NearMissTest, AnIncrementalCallGetsTheLiveBaseAndItsPatchIsApplied) {
  const PlanKey base = key("nm", "deploy the web app", context_with("prod"));
  store(base, R"({"steps":["full","check"]})", 800);
  const json ctx = context_with("staging");
  const PlanKey wanted = key("nm", "deploy the web app", ctx);
  RecordingPlanner planner(/*incremental=*/true);
  Result<Computed> got =
      near_miss_compute(lane("nm"), *cache_, &planner, wanted, request_of(wanted, ctx))();
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  EXPECT_EQ(*got->value, R"({"steps":["patched","check"]})");
  EXPECT_NE(got->note.find(R"("incremental":true,"base_key":")" + std::string(base.key.id())),
            std::string::npos)
      << got->note;
  ASSERT_EQ(planner.requests().size(), 1u);
  const json sent = json::parse(planner.requests()[0].incremental_json);
  EXPECT_EQ(sent["previous"]["plan"], json::parse(R"({"steps":["full","check"]})"));
  EXPECT_EQ(sent["previous"]["goal"], "deploy the web app");
  EXPECT_EQ(sent["previous"]["context"], context_with("prod"));
  EXPECT_EQ(sent["changes"], json::parse(R"([{"op":"replace","path":"/env","value":"staging"}])"));
  EXPECT_DOUBLE_EQ(sent["impact"].get<double>(), 0.1);
  EXPECT_EQ(lane("nm").counters.incremental_computes.load(), 1u);
}

TEST_F(NearMissTest, AnInvalidatedBaseIsNeverUsed) {
  const PlanKey base = key("nm", "deploy the web app", context_with("prod"));
  store(base, R"({"steps":["old"]})", 800, {"release-1"});
  ASSERT_TRUE(cache_->invalidate(tag("release-1")).is_ok());
  near_miss_->stored(base, 800);  // even if the index still had it
  const json ctx = context_with("staging");
  const PlanKey wanted = key("nm", "deploy the web app", ctx);
  RecordingPlanner planner(true);
  Result<Computed> got =
      near_miss_compute(lane("nm"), *cache_, &planner, wanted, request_of(wanted, ctx))();
  ASSERT_TRUE(got.is_ok());
  EXPECT_EQ(*got->value, R"({"steps":["full"]})");
  EXPECT_TRUE(got->note.empty());
  ASSERT_EQ(planner.requests().size(), 1u);
  EXPECT_TRUE(planner.requests()[0].incremental_json.empty());
  EXPECT_EQ(lane("nm").index.size(), 0u) << "the gone base was erased";
}

TEST_F(NearMissTest, TooLargeAChangeOrNoCapabilityIsAFullCall) {
  store(key("nm", "deploy the web app", context_with("prod")), R"({"steps":["old"]})", 800);
  const json far = {{"env", "staging"}, {"other", 1}};  // nearly everything differs
  const PlanKey wanted = key("nm", "deploy the web app", far);
  RecordingPlanner capable(true);
  ASSERT_TRUE(
      near_miss_compute(lane("nm"), *cache_, &capable, wanted, request_of(wanted, far))().is_ok());
  EXPECT_TRUE(capable.requests().at(0).incremental_json.empty());
  const json near = context_with("staging");
  const PlanKey close = key("nm", "deploy the web app", near);
  RecordingPlanner plain(false);
  ASSERT_TRUE(
      near_miss_compute(lane("nm"), *cache_, &plain, close, request_of(close, near))().is_ok());
  EXPECT_TRUE(plain.requests().at(0).incremental_json.empty());
}

TEST_F(NearMissTest, ABadPatchOrAFailedIncrementalCallFallsBackToAFullCall) {
  store(key("nm", "deploy the web app", context_with("prod")), R"({"steps":["old"]})", 800);
  const json ctx = context_with("staging");
  const PlanKey wanted = key("nm", "deploy the web app", ctx);
  RecordingPlanner bad(true);
  bad.incremental_answer_ = R"({"patch":[{"op":"remove","path":"/nothing/here"}]})";
  Result<Computed> got =
      near_miss_compute(lane("nm"), *cache_, &bad, wanted, request_of(wanted, ctx))();
  ASSERT_TRUE(got.is_ok());
  EXPECT_EQ(*got->value, R"({"steps":["full"]})");
  EXPECT_EQ(bad.requests().size(), 2u);
  RecordingPlanner failing(true);
  failing.fail_incremental_ = true;
  ASSERT_TRUE(
      near_miss_compute(lane("nm"), *cache_, &failing, wanted, request_of(wanted, ctx))().is_ok());
  EXPECT_EQ(failing.requests().size(), 2u);
  EXPECT_EQ(lane("nm").counters.incremental_fallbacks.load(), 2u);
  EXPECT_EQ(lane("nm").counters.incremental_computes.load(), 0u);
}

TEST_F(NearMissTest, ShadowComputesCountRightAndWrong) {
  const json ctx = {{"env", "prod"}};
  store(key("shadow", "restart the nginx server", ctx), R"({"steps":["full"]})", 100);
  RecordingPlanner planner(false);  // answers {"steps":["full"]}: the same plan
  const PlanKey reworded = key("shadow", "Restart nginx servers", ctx);
  ASSERT_TRUE(
      near_miss_compute(lane("shadow"), *cache_, &planner, reworded, request_of(reworded, ctx))()
          .is_ok());
  EXPECT_EQ(lane("shadow").counters.shadow_right.load(), 1u);
  planner.full_answer_ = R"({"steps":["something else"]})";
  ASSERT_TRUE(
      near_miss_compute(lane("shadow"), *cache_, &planner, reworded, request_of(reworded, ctx))()
          .is_ok());
  EXPECT_EQ(lane("shadow").counters.shadow_wrong.load(), 1u);
}

TEST(IncrementalAnswer, PatchWholePlanAndRefusals) {
  const std::string base = R"({"a":1,"b":[1,2]})";
  EXPECT_EQ(*apply_incremental_answer(base, R"({"patch":[{"op":"add","path":"/b/-","value":3}]})"),
            R"({"a":1,"b":[1,2,3]})");
  EXPECT_EQ(*apply_incremental_answer(base, R"({"whole":true})"), R"({"whole":true})");
  EXPECT_EQ(*apply_incremental_answer(base, R"({"patch":[],"x":1})"), R"({"patch":[],"x":1})")
      << "only an object whose one member is the patch is a patch";
  EXPECT_FALSE(
      apply_incremental_answer(base, R"({"patch":[{"op":"remove","path":"/zz"}]})").is_ok());
  EXPECT_FALSE(
      apply_incremental_answer(base, R"({"patch":[{"op":"replace","path":"","value":[1]}]})")
          .is_ok())
      << "an object plan stays an object";
  EXPECT_FALSE(apply_incremental_answer(base, R"({"patch":[{"op":"bogus"}]})").is_ok());
}

TEST_F(NearMissTest, StatsAndMetricsNameEveryCounter) {
  const json stats = near_miss_->stats_json();
  ASSERT_TRUE(stats.contains("nm"));
  for (const char* name :
       {"exact_hits", "similar_hits", "shadow_right", "shadow_wrong", "incremental_computes",
        "incremental_fallbacks", "planner_ms_saved_incremental", "planner_ms_saved_similar"}) {
    EXPECT_TRUE(stats["nm"].contains(name)) << name;
  }
  EXPECT_TRUE(stats["nm"]["similar_misses"].contains("vetoed"));
  EXPECT_TRUE(stats["nm"]["vetoes"].contains("negation"));
  EXPECT_TRUE(stats["nm"]["index"].contains("entries"));
  EXPECT_EQ(stats["nm"]["policy"]["max_change_impact"], 0.3);
  const std::string text = near_miss_->prometheus_text();
  EXPECT_NE(text.find(R"(plancache_near_miss_vetoes_total{namespace="nm",reason="date"} 0)"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE plancache_near_miss_index_entries gauge"), std::string::npos);
  EXPECT_EQ(NearMiss(NamespacePolicies()).prometheus_text(), "");
}

}  // namespace
}  // namespace plancache::internal
