// Planning (read-through flights) over a real memory tier and a real
// command planner (/bin/sh), with a FakeClock for TTLs and staleness.
#include "server/planning.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "plancache/memory_tier.h"
#include "support/memory_cache.h"

namespace plancache::internal {
namespace {

namespace fs = std::filesystem;

// Collects the outcomes handed to plan()'s callbacks.
class Outcomes {
 public:
  Planning::Callback sink() {
    return [this](PlanOutcome o) {
      std::lock_guard lock(mu_);
      got_.push_back(std::move(o));
      cv_.notify_all();
    };
  }
  std::vector<PlanOutcome> wait_for(size_t n) {
    std::unique_lock lock(mu_);
    EXPECT_TRUE(cv_.wait_for(lock, std::chrono::seconds(30), [&] { return got_.size() >= n; }))
        << "only " << got_.size() << " of " << n << " callbacks ran";
    return got_;
  }

 private:
  std::mutex mu_;  // guards got_
  std::condition_variable cv_;
  std::vector<PlanOutcome> got_;
};

class PlanningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("plancache-planning-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    calls_ = (dir_ / "calls").string();
    fail_flag_ = (dir_ / "fail").string();
    cache_ = plancache::testing::memory_cache(clock_, policies_);
  }
  void TearDown() override {
    planning_.reset();
    fs::remove_all(dir_);
  }

  // A planner that logs each call, fails while the flag file exists, and
  // waits for `gate` to exist before answering (when given).
  void start(std::shared_ptr<const NamespacePolicies> policies, const std::string& gate = "") {
    CommandPlannerOptions cmd;
    cmd.command = "echo call >> '" + calls_ + "'; " +
                  (gate.empty() ? "" : "while [ ! -e '" + gate + "' ]; do sleep 0.01; done; ") +
                  "[ -e '" + fail_flag_ + "' ] && { echo down >&2; exit 3; }; "
                  "printf '{\"tasks\": [\"a\", \"b\"]}'";
    cmd.timeout_ms = 20'000;
    PlanningOptions options;
    options.planner = std::shared_ptr<Planner>(std::move(new_command_planner(cmd)).value());
    options.max_concurrent = 4;
    options.refresh_ahead_ms = 10'000;
    options.refresh_ahead_min_hits = 2;
    planning_ = std::make_unique<Planning>(*cache_, std::move(policies), std::move(options));
  }

  size_t planner_calls() const {
    std::ifstream in(calls_);
    size_t n = 0;
    for (std::string line; std::getline(in, line);) ++n;
    return n;
  }

  static PlanRequest request(const std::string& ns = "default") {
    PlanRequest r;
    r.goal = "goal";
    r.ns = ns;
    return r;
  }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  std::shared_ptr<NamespacePolicies> policies_ = std::make_shared<NamespacePolicies>();
  std::unique_ptr<Cache> cache_;
  std::unique_ptr<Planning> planning_;
  fs::path dir_;
  std::string calls_;
  std::string fail_flag_;
  const CacheKey key_{"default", KeyKind::kPlan, "k"};
};

TEST_F(PlanningTest, ConcurrentCallersShareOneRunAndTheResultIsStored) {
  const std::string gate = (dir_ / "gate").string();
  start(policies_, gate);
  Outcomes outcomes;
  constexpr size_t kCallers = 32;
  for (size_t i = 0; i < kCallers; ++i) planning_->plan(key_, request(), nullptr, outcomes.sink());
  // Every caller joined before the planner was allowed to answer.
  EXPECT_EQ(planning_->stats().inflight, 1u);
  EXPECT_EQ(planning_->stats().coalesced, kCallers - 1);
  std::ofstream(gate).put('x');
  const auto got = outcomes.wait_for(kCallers);
  size_t leaders = 0;
  for (const PlanOutcome& o : got) {
    ASSERT_NE(o.entry, nullptr) << o.error.to_string();
    EXPECT_EQ(*o.entry->value, R"({"tasks":["a","b"]})") << "re-serialised compact JSON";
    EXPECT_FALSE(o.cached);
    leaders += o.coalesced ? 0 : 1;
  }
  EXPECT_EQ(leaders, 1u);
  EXPECT_EQ(planner_calls(), 1u);
  EXPECT_TRUE(cache_->get(key_).hit());
  EXPECT_EQ(planning_->stats().inflight, 0u);
}

// A planner that gives its plans an eviction hint beside the plan (as an
// HTTP planner does with its Plancache-Priority header).
class HintingPlanner final : public Planner {
 public:
  Result<std::string> plan(const PlanRequest&) override { return std::string(R"({"p":1})"); }
  Result<PlannerAnswer> plan_with_hints(const PlanRequest&) override {
    return PlannerAnswer{R"({"p":1})", EntryPriority::kImportant};
  }
  std::string describe() const override { return "hinting planner"; }
  void cancel_all() override {}
};

TEST_F(PlanningTest, ThePlannersHintIsStoredWithThePlan) {
  PlanningOptions options;
  options.planner = std::make_shared<HintingPlanner>();
  planning_ = std::make_unique<Planning>(*cache_, policies_, std::move(options));
  Outcomes outcomes;
  planning_->plan(key_, request(), nullptr, outcomes.sink());
  const auto got = outcomes.wait_for(1);
  ASSERT_NE(got[0].entry, nullptr) << got[0].error.to_string();
  EXPECT_EQ(got[0].entry->meta.priority, EntryPriority::kImportant);
  const Lookup stored = cache_->get(key_);
  ASSERT_TRUE(stored.hit());
  EXPECT_EQ(stored.entry->meta.priority, EntryPriority::kImportant);
}

TEST_F(PlanningTest, StopCancelsRunsPastTheGraceAndRefusesNewOnes) {
  const std::string gate = (dir_ / "gate").string();  // never created: the planner waits
  start(policies_, gate);
  Outcomes waiting;
  for (int i = 0; i < 3; ++i) planning_->plan(key_, request(), nullptr, waiting.sink());
  planning_->stop(std::chrono::milliseconds(0));
  // The planner's own timeout is 20 s; only the cancel can answer this way.
  for (const PlanOutcome& o : waiting.wait_for(3)) {
    EXPECT_EQ(o.entry, nullptr);
    EXPECT_EQ(o.error.code(), StatusCode::kUnavailable) << o.error.to_string();
  }
  Outcomes late;
  planning_->plan(CacheKey{"default", KeyKind::kPlan, "other"}, request(), nullptr, late.sink());
  const auto got = late.wait_for(1);
  EXPECT_EQ(got[0].error.code(), StatusCode::kUnavailable);
  EXPECT_FALSE(cache_->get(key_).hit()) << "nothing is stored from a cancelled run";
}

TEST_F(PlanningTest, StopLetsRunsFinishWithinTheGrace) {
  const std::string gate = (dir_ / "gate").string();
  start(policies_, gate);
  Outcomes waiting;
  planning_->plan(key_, request(), nullptr, waiting.sink());
  planning_->stop(std::chrono::milliseconds(60'000));
  std::ofstream(gate).put('x');
  const auto got = waiting.wait_for(1);
  ASSERT_NE(got[0].entry, nullptr) << got[0].error.to_string();
  EXPECT_TRUE(cache_->get(key_).hit());
}

TEST_F(PlanningTest, RunsAfterAStoreFindTheCachedPlan) {
  start(policies_);
  Outcomes first;
  planning_->plan(key_, request(), nullptr, first.sink());
  ASSERT_NE(first.wait_for(1)[0].entry, nullptr);
  Outcomes second;  // a caller that missed just before the store
  planning_->plan(key_, request(), nullptr, second.sink());
  const PlanOutcome o = second.wait_for(1)[0];
  EXPECT_TRUE(o.cached);
  EXPECT_EQ(o.tier, "l1");
  EXPECT_EQ(planner_calls(), 1u);
}

TEST_F(PlanningTest, PlansBelowTheMinComputeTimeAreNotStored) {
  NamespacePolicy strict = policies_->get("default");
  strict.min_compute_ms = 1;  // the FakeClock measures every run as 0 ms
  ASSERT_TRUE(policies_->set("default", strict).is_ok());
  start(policies_);
  Outcomes outcomes;
  planning_->plan(key_, request(), nullptr, outcomes.sink());
  EXPECT_NE(outcomes.wait_for(1)[0].entry, nullptr);
  EXPECT_FALSE(cache_->get(key_).hit());
  EXPECT_EQ(planning_->stats().not_stored, 1u);
}

TEST_F(PlanningTest, FailureIsAnErrorForEveryCallerAndNothingIsStored) {
  std::ofstream(fail_flag_).put('x');
  start(policies_);
  Outcomes outcomes;
  planning_->plan(key_, request(), nullptr, outcomes.sink());
  const PlanOutcome o = outcomes.wait_for(1)[0];
  EXPECT_EQ(o.entry, nullptr);
  EXPECT_EQ(o.error.code(), StatusCode::kBadGateway);
  EXPECT_NE(o.error.message().find("down"), std::string::npos) << o.error.message();
  EXPECT_FALSE(cache_->get(key_).hit());
  EXPECT_EQ(planning_->stats().planner_errors, 1u);
}

TEST_F(PlanningTest, StaleIfErrorServesTheStalePlanWithinItsWindow) {
  NamespacePolicy lenient = policies_->get("default");
  lenient.default_ttl_ms = 1000;
  lenient.read_through.stale_if_error_s = 60;
  ASSERT_TRUE(policies_->set("default", lenient).is_ok());
  start(policies_);
  EXPECT_EQ(planning_->stale_grace_ms("default"), 60'000);
  PutOptions put;
  put.stale_grace_ms = planning_->stale_grace_ms("default");
  ASSERT_TRUE(cache_->put(key_, std::make_shared<const Bytes>("\"old\""), put).is_ok());
  clock_->advance_ms(1500);
  Lookup stale = cache_->get(key_, GetOptions{.allow_stale = true});
  ASSERT_TRUE(stale.stale);
  EXPECT_FALSE(planning_->may_serve_while_revalidating("default", *stale.entry, clock_->now_ms()))
      << "no stale_while_revalidate_s configured";

  std::ofstream(fail_flag_).put('x');
  Outcomes served;
  planning_->plan(key_, request(), stale.entry, served.sink());
  PlanOutcome o = served.wait_for(1)[0];
  ASSERT_NE(o.entry, nullptr);
  EXPECT_TRUE(o.stale);
  EXPECT_EQ(*o.entry->value, "\"old\"");

  clock_->advance_ms(60'000);  // past the stale-if-error window
  Outcomes failed;
  planning_->plan(key_, request(), stale.entry, failed.sink());
  EXPECT_EQ(failed.wait_for(1)[0].error.code(), StatusCode::kBadGateway);
}

TEST_F(PlanningTest, RefreshAheadNeedsEnoughHitsNearTheEnd) {
  NamespacePolicy p = policies_->get("default");
  p.default_ttl_ms = 60'000;
  ASSERT_TRUE(policies_->set("default", p).is_ok());
  start(policies_);
  ASSERT_TRUE(cache_->put(key_, std::make_shared<const Bytes>("1"), {}).is_ok());
  const EntryPtr entry = cache_->get(key_).entry;
  EXPECT_FALSE(planning_->note_hit(key_, *entry));
  EXPECT_FALSE(planning_->note_hit(key_, *entry)) << "not inside the 10 s window yet";
  clock_->advance_ms(51'000);
  EXPECT_FALSE(planning_->note_hit(key_, *entry)) << "one hit is not hot";
  EXPECT_TRUE(planning_->note_hit(key_, *entry));
  planning_->refresh(key_, request());
  const size_t deadline_polls = 3000;
  for (size_t i = 0; i < deadline_polls && planning_->stats().stored == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(planning_->stats().refreshes, 1u);
  EXPECT_EQ(planning_->stats().stored, 1u);
  EXPECT_EQ(planner_calls(), 1u);
  EXPECT_EQ(*cache_->get(key_).entry->value, R"({"tasks":["a","b"]})");
}

}  // namespace
}  // namespace plancache::internal
