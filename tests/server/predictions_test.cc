// Predictions (server/predictions.h): passes over a real NearMiss, memory
// cache and Planning, with an in-process planner whose calls wait on a gate
// the test opens (forced orderings, no timing) and a FakeClock.
#include "server/predictions.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/key_builder_internal.h"
#include "plancache/memory_tier.h"

namespace plancache::internal {
namespace {

using nlohmann::json;

// Records every call; a call waits while the gate is closed.
class GatedPlanner final : public Planner {
 public:
  Result<std::string> plan(const PlanRequest& request) override {
    std::unique_lock lock(mu_);
    requests_.push_back(request);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
    --waiting_;
    return std::string(R"({"steps":["made for )" + request.goal + R"("]})");
  }
  std::string describe() const override { return "gated planner"; }
  void cancel_all() override {}

  void set_open(bool open) {
    std::lock_guard lock(mu_);
    open_ = open;
    cv_.notify_all();
  }
  // Waits until `n` calls wait at the closed gate.
  bool wait_waiting(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return waiting_ >= n; });
  }
  std::vector<PlanRequest> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  std::mutex mu_;  // guards requests_, waiting_, open_; cv_ signals changes
  std::condition_variable cv_;
  std::vector<PlanRequest> requests_;
  size_t waiting_ = 0;
  bool open_ = true;
};

json env(const std::string& e) { return {{"env", e}, {"region", "eu"}}; }

class PredictionsTest : public ::testing::Test {
 protected:
  void start(uint32_t max_runs = 4, double min_confidence = 0.8, unsigned threads = 4) {
    NamespacePolicy lane;
    lane.near_miss.predict = true;
    lane.near_miss.predict_max_runs = max_runs;
    lane.near_miss.predict_min_confidence = min_confidence;
    lane.default_ttl_ms = 60'000;
    ASSERT_TRUE(policies_->set("ops", lane).is_ok());
    near_miss_ = std::make_unique<NearMiss>(*policies_);
    MemoryTierOptions l1;
    l1.clock = clock_;
    l1.removal_listener = near_miss_->removal_listener();
    CacheOptions options;
    options.tiers.push_back(std::move(new_memory_tier(std::move(l1))).value());
    options.clock = clock_;
    options.policies = policies_;
    cache_ = std::move(new_cache(std::move(options))).value();
    PlanningOptions planning;
    planning.planner = planner_;
    planning.max_concurrent = threads;
    planning_ = std::make_unique<Planning>(*cache_, policies_, std::move(planning));
    keys_ = LaneKeys(KeyBuilderOptions{}, *policies_);
    predictions_ = std::make_unique<Predictions>(*near_miss_, *planning_, *cache_, keys_,
                                                 PredictionsOptions{});
  }
  void TearDown() override {
    planner_->set_open(true);
    predictions_.reset();
    planning_.reset();
  }

  PlanKey key(const std::string& goal, const json& context) {
    return std::move(plan_key_from_json(keys_.of("ops"), "ops", goal, context)).value();
  }
  // A caller asks (goal, context): the lookup as the handlers record it;
  // a miss is answered by a put, as if the caller's flight computed it.
  Lookup ask(const std::string& goal, const json& context) {
    const PlanKey k = key(goal, context);
    Lookup found = cache_->get(k.key);
    near_miss_->requested(k, found, clock_->now_ms());
    if (!found.hit()) {
      PutOptions options;
      options.ttl_ms = 60'000;
      EXPECT_TRUE(cache_->put(k.key, std::make_shared<const Bytes>("{}"), options).is_ok());
      near_miss_->stored(k, 0);
    }
    return found;
  }
  // Two goals asked with dev, staging and prod; each of `missing` with dev
  // and staging only.
  void families(const std::vector<std::string>& missing) {
    for (const char* goal : {"deploy the api", "deploy the web app"}) {
      for (const char* e : {"dev", "staging", "prod"}) ask(goal, env(e));
    }
    for (const std::string& goal : missing) {
      ask(goal, env("dev"));
      ask(goal, env("staging"));
    }
  }
  NearMissCounters& counters() { return near_miss_->lane("ops")->counters; }
  uint64_t count(std::atomic<uint64_t>& c) { return c.load(); }
  bool flights_done() {
    for (int i = 0; i < 2000; ++i) {
      if (planning_->stats().inflight == 0 && near_miss_->lane("ops")->predictions_running == 0) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  std::shared_ptr<NamespacePolicies> policies_ = std::make_shared<NamespacePolicies>();
  std::shared_ptr<GatedPlanner> planner_ = std::make_shared<GatedPlanner>();
  LaneKeys keys_;
  std::unique_ptr<NearMiss> near_miss_;
  std::unique_ptr<Cache> cache_;
  std::unique_ptr<Planning> planning_;
  std::unique_ptr<Predictions> predictions_;
};

TEST_F(PredictionsTest, ADryRunStartsNothingAndAPassPlansTheMissingMember) {
  start();
  families({"deploy the worker"});
  const std::vector<PredictionItem> dry = predictions_->run_pass(true, std::nullopt);
  ASSERT_EQ(dry.size(), 1u);
  EXPECT_EQ(dry[0].action, "would_compute");
  EXPECT_EQ(dry[0].key, key("deploy the worker", env("prod")).key.id());
  EXPECT_TRUE(planner_->requests().empty());
  const json doc = Predictions::to_json(dry, true);
  EXPECT_EQ(doc["predictions"][0]["kind"], "family");
  EXPECT_EQ(doc["predictions"][0]["context"], env("prod"));

  const std::vector<PredictionItem> ran = predictions_->run_pass(false, std::nullopt);
  ASSERT_EQ(ran.size(), 1u);
  EXPECT_EQ(ran[0].action, "started");
  ASSERT_TRUE(flights_done());
  ASSERT_EQ(planner_->requests().size(), 1u);
  EXPECT_EQ(json::parse(planner_->requests()[0].context_json), env("prod"));
  EXPECT_EQ(count(counters().predictions_started), 1u);
  // Stored and indexed: the next pass proposes nothing; the caller hits it.
  EXPECT_TRUE(predictions_->run_pass(true, std::nullopt).empty());
  EXPECT_TRUE(ask("deploy the worker", env("prod")).hit());
  EXPECT_EQ(count(counters().predictions_used), 1u);
  EXPECT_EQ(count(counters().predictions_wasted), 0u);
}

TEST_F(PredictionsTest, BelowTheThresholdIsReportedNeverRun) {
  start(/*max_runs=*/4, /*min_confidence=*/0.95);
  families({"deploy the worker", "deploy the cron jobs"});  // two candidates of 0.89
  const std::vector<PredictionItem> items = predictions_->run_pass(false, std::nullopt);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].action, "below_threshold");
  EXPECT_NEAR(items[0].prediction.confidence, (2 + 2.0 / 3) / 3, 1e-9);
  EXPECT_TRUE(flights_done());
  EXPECT_TRUE(planner_->requests().empty());
  EXPECT_EQ(count(counters().predictions_started), 0u);
}

TEST_F(PredictionsTest, AtMostMaxRunsAtOnceTheRestDroppedNotQueued) {
  start(/*max_runs=*/1, /*min_confidence=*/0.6);
  families({"deploy the worker", "deploy the cron jobs"});
  planner_->set_open(false);
  std::vector<PredictionItem> items = predictions_->run_pass(false, std::nullopt);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].action, "started");
  EXPECT_EQ(items[1].action, "dropped_busy");
  ASSERT_TRUE(planner_->wait_waiting(1));
  EXPECT_EQ(count(counters().predictions_dropped_busy), 1u);
  // The running one is tracked: a pass meanwhile skips it and drops the other again.
  items = predictions_->run_pass(false, std::nullopt);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].action, "dropped_busy");
  // A caller asking the running one joins its flight: a use.
  near_miss_->requested(key(planner_->requests()[0].goal, env("prod")), Lookup{}, clock_->now_ms());
  EXPECT_EQ(count(counters().predictions_used), 1u);
  planner_->set_open(true);
  ASSERT_TRUE(flights_done());
  items = predictions_->run_pass(false, std::nullopt);  // now the other one starts
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].action, "started");
  ASSERT_TRUE(flights_done());
  EXPECT_EQ(planner_->requests().size(), 2u);
}

TEST_F(PredictionsTest, NoSparePlannerThreadMeansDroppedACallerNeverWaitsForAPrediction) {
  start(/*max_runs=*/4, 0.8, /*threads=*/2);
  families({"deploy the worker"});
  planner_->set_open(false);
  // A caller's flight holds one of the two threads; the other is the spare.
  const PlanKey other = key("rotate the keys", json::object());
  PlanRequest request;
  request.goal = other.normalized_goal;
  request.ns = "ops";
  planning_->plan(other, request, nullptr, [](PlanOutcome) {});
  ASSERT_TRUE(planner_->wait_waiting(1));
  const std::vector<PredictionItem> items = predictions_->run_pass(false, std::nullopt);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].action, "dropped_busy");
  EXPECT_EQ(count(counters().predictions_started), 0u);
  planner_->set_open(true);
  ASSERT_TRUE(flights_done());
  EXPECT_EQ(predictions_->run_pass(false, std::nullopt)[0].action, "started");
}

TEST_F(PredictionsTest, ARecurringEntryNearItsEndIsRefreshedAheadAndItsNewPlanUsed) {
  start();
  const json c = {{"env", "prod"}};
  ask("nightly report", c);    // a miss: stored, fresh for 60 s
  clock_->advance_ms(35'000);  // 25 s left: inside half its TTL
  ASSERT_TRUE(ask("nightly report", c).hit());
  ASSERT_TRUE(ask("nightly report", c).hit());
  const std::vector<PredictionItem> items = predictions_->run_pass(false, std::nullopt);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].prediction.kind, PredictionKind::kRecurring);
  EXPECT_EQ(items[0].action, "started");
  ASSERT_TRUE(flights_done());
  EXPECT_EQ(planning_->stats().refreshes, 1u);  // through refresh-ahead's own path
  ASSERT_EQ(planner_->requests().size(), 1u);
  EXPECT_TRUE(predictions_->run_pass(true, std::nullopt).empty());  // not again before a hit
  clock_->advance_ms(55'000);  // past the old entry's end: the refreshed one answers
  const Lookup hit = ask("nightly report", c);
  ASSERT_TRUE(hit.hit());
  EXPECT_EQ(*hit.entry->value, R"({"steps":["made for nightly report"]})");
  EXPECT_EQ(count(counters().predictions_used), 1u);
}

TEST_F(PredictionsTest, APredictedPlanEvictedUnaskedIsWasted) {
  start();
  families({"deploy the worker"});
  ASSERT_EQ(predictions_->run_pass(false, std::nullopt)[0].action, "started");
  ASSERT_TRUE(flights_done());
  clock_->advance_ms(61'000);
  cache_->purge_expired();
  EXPECT_EQ(count(counters().predictions_wasted), 1u);
  EXPECT_EQ(count(counters().predictions_used), 0u);
}

TEST_F(PredictionsTest, OnlyLanesThatPredictAreNamed) {
  start();
  EXPECT_TRUE(predictions_->predicts("ops"));
  EXPECT_FALSE(predictions_->predicts("default"));
  families({"deploy the worker"});
  EXPECT_TRUE(predictions_->run_pass(true, std::string_view("default")).empty());
  EXPECT_EQ(predictions_->run_pass(true, std::string_view("ops")).size(), 1u);
}

}  // namespace
}  // namespace plancache::internal
