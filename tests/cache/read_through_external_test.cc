// ReadThroughEngine's external flights (the server's HTTP lease): the
// holder's value reaches every waiter, a lease that ends without a value
// goes to the next waiter, in-process computes and external holders share
// one flight table. Jobs run when the test says (ManualExecutor) and time
// is a FakeClock: no sleeps.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include "cache/read_through_engine.h"
#include "support/manual_executor.h"
#include "support/memory_cache.h"

namespace plancache::internal {
namespace {

using plancache::testing::ManualExecutor;
using plancache::testing::Outcomes;

constexpr int64_t kLeaseMs = 5'000;

Computed value(std::string text, uint32_t compute_ms = 0) {
  Computed c{std::make_shared<const Bytes>(std::move(text)), {}, true};
  c.options.compute_ms = compute_ms;
  return c;
}

class ExternalFlightTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NamespacePolicy lane = policies_->get("default");
    lane.default_ttl_ms = 60'000;
    ASSERT_TRUE(policies_->set("default", lane).is_ok());
    cache_ = plancache::testing::memory_cache(clock_, policies_);
    store_ = std::make_unique<CacheStore>(*cache_);
    ReadThroughOptions options;
    options.executor = manual_.executor();
    options.policies = policies_;
    engine_ = std::make_unique<ReadThroughEngine>(*store_, *clock_, std::move(options));
  }

  ComputeFn counted(std::string text) {
    return [this, text]() -> Result<Computed> {
      computes_.fetch_add(1);
      return value(text);
    };
  }

  // n callers ask for key_ as lease callers; returns their outcomes after
  // the jobs ran.
  void ask(Outcomes& out, int n) {
    for (int i = 0; i < n; ++i) engine_->join_external(key_, kLeaseMs, out.sink());
    manual_.run_all();
  }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  std::shared_ptr<NamespacePolicies> policies_ = std::make_shared<NamespacePolicies>();
  std::unique_ptr<Cache> cache_;
  std::unique_ptr<CacheStore> store_;
  ManualExecutor manual_;
  std::unique_ptr<ReadThroughEngine> engine_;
  std::atomic<int> computes_{0};
  const CacheKey key_{"default", KeyKind::kPlan, "k"};
};

TEST_F(ExternalFlightTest, TheLeaderGetsATokenAndItsValueReachesEveryWaiter) {
  Outcomes out;
  ask(out, 3);
  ASSERT_EQ(out.size(), 1u) << "only the leader is answered";
  const std::string token = out.got[0].lease_token;
  ASSERT_EQ(token.size(), 32u);
  EXPECT_EQ(out.got[0].entry, nullptr);
  EXPECT_EQ(engine_->stats().leases_held, 1u);
  EXPECT_EQ(engine_->stats().waiting, 2u);

  auto done = engine_->complete_external(key_, token, value("\"plan\"", 1200));
  ASSERT_TRUE(done.is_ok()) << done.status().message();
  EXPECT_TRUE(done->stored);
  ASSERT_EQ(out.size(), 3u);
  for (size_t i = 1; i < 3; ++i) {
    ASSERT_NE(out.got[i].entry, nullptr);
    EXPECT_EQ(*out.got[i].entry->value, "\"plan\"");
    EXPECT_TRUE(out.got[i].coalesced);
    EXPECT_TRUE(out.got[i].lease_token.empty());
  }
  const Lookup stored = cache_->get(key_);
  ASSERT_TRUE(stored.hit());
  EXPECT_EQ(stored.entry->meta.compute_ms, 1200u);
  const ReadThroughStats s = engine_->stats();
  EXPECT_EQ(s.leases_granted, 1u);
  EXPECT_EQ(s.leases_completed, 1u);
  EXPECT_EQ(s.leases_held, 0u);
  EXPECT_EQ(s.inflight, 0u);
  EXPECT_EQ(s.waiting, 0u);
}

TEST_F(ExternalFlightTest, ATokenWorksOnceAndAWrongOneNever) {
  Outcomes out;
  ask(out, 1);
  const std::string token = out.got[0].lease_token;
  EXPECT_EQ(engine_->complete_external(key_, "0123", value("1")).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_FALSE(engine_->renew_external(key_, "0123", kLeaseMs));
  EXPECT_FALSE(engine_->release_external(key_, "0123"));
  ASSERT_TRUE(engine_->complete_external(key_, token, value("2")).is_ok());
  EXPECT_EQ(engine_->complete_external(key_, token, value("3")).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(*cache_->get(key_).entry->value, "2");
}

TEST_F(ExternalFlightTest, AValueStoredBeforeTheGrantIsTheAnswer) {
  Outcomes out;
  engine_->join_external(key_, kLeaseMs, out.sink());
  ASSERT_TRUE(cache_->put(key_, std::make_shared<const Bytes>("\"put\""), {}).is_ok());
  manual_.run_all();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out.got[0].lease_token.empty());
  ASSERT_NE(out.got[0].entry, nullptr);
  EXPECT_TRUE(out.got[0].cached);
  EXPECT_EQ(engine_->stats().leases_granted, 0u);
}

TEST_F(ExternalFlightTest, AnInProcessComputeWaitsForTheHolder) {
  Outcomes leader, planner_caller;
  ask(leader, 1);
  engine_->join(key_, counted("\"planner\""), nullptr, planner_caller.sink());
  manual_.run_all();
  EXPECT_EQ(planner_caller.size(), 0u) << "waits for the holder";
  ASSERT_TRUE(engine_->complete_external(key_, leader.got[0].lease_token, value("\"held\"")).is_ok());
  ASSERT_EQ(planner_caller.size(), 1u);
  EXPECT_EQ(*planner_caller.got[0].entry->value, "\"held\"");
  EXPECT_EQ(computes_.load(), 0);
}

TEST_F(ExternalFlightTest, ALeaseCallerWaitsForAnInProcessCompute) {
  Outcomes planner_caller, lease_caller;
  engine_->join(key_, counted("\"planner\""), nullptr, planner_caller.sink());
  engine_->join_external(key_, kLeaseMs, lease_caller.sink());
  manual_.run_all();
  ASSERT_EQ(lease_caller.size(), 1u);
  EXPECT_TRUE(lease_caller.got[0].lease_token.empty()) << "no lease: the value";
  EXPECT_EQ(*lease_caller.got[0].entry->value, "\"planner\"");
  EXPECT_EQ(computes_.load(), 1);
}

TEST_F(ExternalFlightTest, AReleasedLeaseGoesToTheNextWaiter) {
  Outcomes out;
  ask(out, 3);
  const std::string first = out.got[0].lease_token;
  ASSERT_TRUE(engine_->release_external(key_, first));
  manual_.run_all();
  ASSERT_EQ(out.size(), 2u) << "one waiter leads now, one still waits";
  const std::string second = out.got[1].lease_token;
  ASSERT_FALSE(second.empty());
  EXPECT_NE(second, first);
  EXPECT_EQ(engine_->stats().waiting, 1u);
  EXPECT_EQ(engine_->complete_external(key_, first, value("1")).status().code(),
            StatusCode::kFailedPrecondition);
  ASSERT_TRUE(engine_->complete_external(key_, second, value("\"second\"")).is_ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(*out.got[2].entry->value, "\"second\"");
  EXPECT_EQ(engine_->stats().leases_released, 1u);
}

TEST_F(ExternalFlightTest, AnExpiredLeaseGoesToTheNextWaiterAndRenewingKeepsIt) {
  Outcomes out;
  ask(out, 2);
  const std::string first = out.got[0].lease_token;
  clock_->advance_ms(kLeaseMs - 1);
  ASSERT_TRUE(engine_->renew_external(key_, first, kLeaseMs));
  clock_->advance_ms(kLeaseMs - 1);
  EXPECT_EQ(engine_->expire_external(), 1u) << "renewed: still held";
  EXPECT_EQ(out.size(), 1u);
  clock_->advance_ms(1);
  EXPECT_EQ(engine_->expire_external(), 0u);
  manual_.run_all();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_FALSE(out.got[1].lease_token.empty()) << "the waiter holds it now";
  EXPECT_FALSE(engine_->renew_external(key_, first, kLeaseMs));
  EXPECT_EQ(engine_->stats().leases_expired, 1u);
  EXPECT_EQ(engine_->stats().leases_held, 1u);
}

TEST_F(ExternalFlightTest, AnInProcessWaiterComputesItselfWhenTheLeaseLapses) {
  Outcomes leader, planner_caller;
  ask(leader, 1);
  engine_->join(key_, counted("\"planner\""), nullptr, planner_caller.sink());
  clock_->advance_ms(kLeaseMs);
  engine_->expire_external();
  manual_.run_all();
  ASSERT_EQ(planner_caller.size(), 1u);
  EXPECT_EQ(*planner_caller.got[0].entry->value, "\"planner\"");
  EXPECT_EQ(computes_.load(), 1);
}

TEST_F(ExternalFlightTest, AValueBelowTheMinComputeTimeReachesTheWaitersUnstored) {
  NamespacePolicy lane = policies_->get("default");
  lane.min_compute_ms = 500;
  ASSERT_TRUE(policies_->set("default", lane).is_ok());
  Outcomes out;
  ask(out, 2);
  auto done = engine_->complete_external(key_, out.got[0].lease_token, value("\"cheap\"", 20));
  ASSERT_TRUE(done.is_ok());
  EXPECT_FALSE(done->stored);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(*out.got[1].entry->value, "\"cheap\"");
  EXPECT_FALSE(cache_->get(key_).hit());
}

TEST_F(ExternalFlightTest, StopEndsHeldLeases) {
  Outcomes out;
  ask(out, 2);
  engine_->stop(std::chrono::milliseconds(0), nullptr);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out.got[1].error.code(), StatusCode::kUnavailable);
  EXPECT_EQ(engine_->complete_external(key_, out.got[0].lease_token, value("1")).status().code(),
            StatusCode::kFailedPrecondition);
  Outcomes late;
  engine_->join_external(key_, kLeaseMs, late.sink());
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late.got[0].error.code(), StatusCode::kUnavailable);
}

TEST_F(ExternalFlightTest, TheDestructorEndsAHeldLease) {
  Outcomes out;
  ask(out, 2);
  engine_.reset();  // must not wait for a holder that never comes
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out.got[1].error.code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace plancache::internal
