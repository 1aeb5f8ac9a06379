// ReadThroughEngine: the races of single-flight, stale refreshes and
// refresh-ahead, by forced ordering (sync points, cache/sync_point.h) or by
// a manual executor whose jobs the test runs itself -- never by sleeps.
#include "cache/read_through_engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "cache/sync_point.h"
#include "plancache/memory_tier.h"
#include "support/manual_executor.h"
#include "support/memory_cache.h"

namespace plancache::internal {
namespace {

BytesPtr bytes(std::string s) { return std::make_shared<const Bytes>(std::move(s)); }

using plancache::testing::ManualExecutor;
using plancache::testing::Outcomes;

// Which test thread this is (sync-point callbacks act on one thread only).
thread_local const char* t_role = "";

class ReadThroughEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NamespacePolicy lane = policies_->get("default");
    lane.default_ttl_ms = 60'000;
    lane.read_through.stale_while_revalidate_s = 60;
    ASSERT_TRUE(policies_->set("default", lane).is_ok());
    cache_ = plancache::testing::memory_cache(clock_, policies_);
  }
  void TearDown() override { SyncPoint::instance().disable(); }

  // An engine over cache_ whose jobs run when the test says.
  std::unique_ptr<ReadThroughEngine> engine(ReadThroughOptions options = {}) {
    options.executor = manual_.executor();
    options.policies = policies_;
    store_ = std::make_unique<CacheStore>(*cache_);
    return std::make_unique<ReadThroughEngine>(*store_, *clock_, std::move(options));
  }

  static ReadThroughOptions refresh_ahead(int64_t window_ms, uint32_t min_hits) {
    ReadThroughOptions o;
    o.refresh_ahead_ms = window_ms;
    o.refresh_ahead_min_hits = min_hits;
    return o;
  }

  ComputeFn counted(std::string value) {
    return [this, value]() -> Result<Computed> {
      computes_.fetch_add(1);
      return Computed{bytes(value), {}, true};
    };
  }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  std::shared_ptr<NamespacePolicies> policies_ = std::make_shared<NamespacePolicies>();
  std::unique_ptr<Cache> cache_;
  ManualExecutor manual_;
  std::unique_ptr<CacheStore> store_;
  std::atomic<int> computes_{0};
  const CacheKey key_{"default", KeyKind::kPlan, "k"};
};

// A newcomer arriving after the leader stored, before it left the flight,
// finds the value: the store comes before the leave.
TEST_F(ReadThroughEngineTest, NewcomerBetweenStoreAndLeaveFindsTheValue) {
  SyncPoint::instance().load_dependencies({
      {"ReadThrough::AfterStore", "Test::NewcomerStart"},
      {"Test::NewcomerDone", "ReadThrough::BeforeLeave"},
  });
  SyncPoint::instance().enable();
  std::thread leader([&] {
    auto r = cache_->get_or_compute(key_, counted("v"));
    ASSERT_TRUE(r.is_ok());
    EXPECT_FALSE(r->cached);
  });
  std::optional<Result<ReadThrough>> newcomer;
  std::thread late([&] {
    PLANCACHE_SYNC_POINT("Test::NewcomerStart");
    newcomer = cache_->get_or_compute(key_, counted("second"));
    PLANCACHE_SYNC_POINT("Test::NewcomerDone");
  });
  leader.join();
  late.join();
  ASSERT_TRUE(newcomer->is_ok());
  EXPECT_TRUE((*newcomer)->cached);
  EXPECT_EQ(*(*newcomer)->entry->value, "v");
  EXPECT_EQ(computes_.load(), 1);
}

// A newcomer that missed before the store and joins after it, before the
// leader left, shares the leader's compute.
TEST_F(ReadThroughEngineTest, NewcomerThatMissedBeforeTheStoreJoinsTheFlight) {
  SyncPoint::instance().load_dependencies({
      {"ReadThrough::LeaderBeforeRecheck", "Test::NewcomerStart"},
      {"Test::NewcomerMissed", "ReadThrough::BeforeStore"},
      {"ReadThrough::AfterStore", "Test::NewcomerMayJoin"},
      {"ReadThrough::Joined", "ReadThrough::BeforeLeave"},
  });
  SyncPoint::instance().set_callback("ReadThrough::AfterMiss", [](void*) {
    if (std::string_view(t_role) != "newcomer") return;
    PLANCACHE_SYNC_POINT("Test::NewcomerMissed");
    PLANCACHE_SYNC_POINT("Test::NewcomerMayJoin");
  });
  SyncPoint::instance().enable();
  std::optional<Result<ReadThrough>> first, second;
  std::thread leader([&] { first = cache_->get_or_compute(key_, counted("v")); });
  std::thread late([&] {
    t_role = "newcomer";
    PLANCACHE_SYNC_POINT("Test::NewcomerStart");
    second = cache_->get_or_compute(key_, counted("second"));
  });
  leader.join();
  late.join();
  ASSERT_TRUE(first->is_ok() && second->is_ok());
  EXPECT_TRUE((*second)->coalesced);
  EXPECT_EQ((*second)->entry, (*first)->entry);
  EXPECT_EQ(computes_.load(), 1);
  EXPECT_EQ(cache_->stats().coalesced, 1u);
}

// Between a caller's miss and its joining, another leader computes and
// stores: the caller leads a new flight whose re-check finds the value.
TEST_F(ReadThroughEngineTest, LeaderRecheckFindsAValueStoredAfterTheMiss) {
  SyncPoint::instance().load_dependencies({
      {"Test::CallerMissed", "Test::OtherLeaderStart"},
      {"Test::OtherLeaderDone", "Test::CallerMayJoin"},
  });
  std::atomic<int> rechecks{0};
  SyncPoint::instance().set_callback("ReadThrough::AfterMiss", [](void*) {
    if (std::string_view(t_role) != "caller") return;
    PLANCACHE_SYNC_POINT("Test::CallerMissed");
    PLANCACHE_SYNC_POINT("Test::CallerMayJoin");
  });
  SyncPoint::instance().set_callback("ReadThrough::LeaderBeforeRecheck",
                                     [&](void*) { rechecks.fetch_add(1); });
  SyncPoint::instance().enable();
  std::optional<Result<ReadThrough>> caller;
  std::thread slow([&] {
    t_role = "caller";
    caller = cache_->get_or_compute(key_, counted("second"));
  });
  PLANCACHE_SYNC_POINT("Test::OtherLeaderStart");
  auto other = cache_->get_or_compute(key_, counted("v"));
  ASSERT_TRUE(other.is_ok());
  PLANCACHE_SYNC_POINT("Test::OtherLeaderDone");
  slow.join();
  ASSERT_TRUE(caller->is_ok());
  EXPECT_TRUE((*caller)->cached) << "found by the re-check, not computed again";
  EXPECT_FALSE((*caller)->coalesced);
  EXPECT_EQ(*(*caller)->entry->value, "v");
  EXPECT_EQ(computes_.load(), 1);
  EXPECT_EQ(rechecks.load(), 2);
}

// A stale-while-revalidate refresh racing a fresh put: the put wins.
TEST_F(ReadThroughEngineTest, StaleRefreshDoesNotOverwriteANewerPut) {
  auto rt = engine();
  PutOptions put;
  put.stale_grace_ms = rt->stale_grace_ms("default");
  ASSERT_EQ(put.stale_grace_ms, 60'000);
  ASSERT_TRUE(cache_->put(key_, bytes("old"), put).is_ok());
  clock_->advance_ms(61'000);
  const Lookup stale = cache_->get(key_, GetOptions{.allow_stale = true});
  ASSERT_TRUE(stale.stale);
  ASSERT_TRUE(rt->may_serve_while_revalidating("default", *stale.entry, clock_->now_ms()));
  rt->refresh(key_, counted("refreshed"));
  SyncPoint::instance().set_callback("ReadThrough::BeforeStore", [&](void*) {
    ASSERT_TRUE(cache_->put(key_, bytes("fresh put"), {}).is_ok());
  });
  SyncPoint::instance().enable();
  EXPECT_EQ(manual_.run_all(), 1u);
  EXPECT_EQ(computes_.load(), 1);
  EXPECT_EQ(*cache_->get(key_).entry->value, "fresh put");
  EXPECT_EQ(rt->stats().stored, 0u);
}

TEST_F(ReadThroughEngineTest, StaleRefreshStoresWhenNothingNewerCame) {
  auto rt = engine();
  PutOptions graced;
  graced.stale_grace_ms = 60'000;
  ASSERT_TRUE(cache_->put(key_, bytes("old"), graced).is_ok());
  clock_->advance_ms(61'000);
  rt->refresh(key_, counted("refreshed"));
  EXPECT_EQ(manual_.run_all(), 1u);
  EXPECT_EQ(*cache_->get(key_).entry->value, "refreshed");
  EXPECT_EQ(rt->stats().stored, 1u);
}

// Refresh-ahead starts a flight; a foreground miss for the key joins it.
TEST_F(ReadThroughEngineTest, RefreshAheadAndAForegroundMissShareOneCompute) {
  auto rt = engine(refresh_ahead(10'000, 2));
  ASSERT_TRUE(cache_->put(key_, bytes("1"), {}).is_ok());
  const EntryPtr entry = cache_->get(key_).entry;
  clock_->advance_ms(51'000);
  EXPECT_FALSE(rt->note_hit(key_, *entry));
  ASSERT_TRUE(rt->note_hit(key_, *entry));
  rt->refresh(key_, counted("refreshed"));
  Outcomes foreground;
  rt->join(key_, counted("foreground"), nullptr, foreground.sink());
  EXPECT_EQ(rt->stats().waiting, 1u);
  EXPECT_FALSE(rt->note_hit(key_, *entry));
  EXPECT_EQ(manual_.run_all(), 1u);
  EXPECT_EQ(computes_.load(), 1);
  ASSERT_EQ(foreground.got.size(), 1u);
  EXPECT_TRUE(foreground.got[0].coalesced);
  EXPECT_EQ(*foreground.got[0].entry->value, "refreshed");
  const ReadThroughStats s = rt->stats();
  EXPECT_EQ(s.refreshes, 1u);
  EXPECT_EQ(s.coalesced, 1u);
  EXPECT_EQ(s.waiting, 0u);
  EXPECT_EQ(s.inflight, 0u);
}

TEST_F(ReadThroughEngineTest, ARefreshForAKeyInFlightStartsNothing) {
  auto rt = engine();
  Outcomes foreground;
  rt->join(key_, counted("foreground"), nullptr, foreground.sink());
  rt->refresh(key_, counted("refresh"));
  EXPECT_EQ(manual_.run_all(), 1u);
  EXPECT_EQ(computes_.load(), 1);
  EXPECT_EQ(rt->stats().refreshes, 0u);
  ASSERT_EQ(foreground.got.size(), 1u);
  EXPECT_FALSE(foreground.got[0].coalesced);
}

TEST_F(ReadThroughEngineTest, BackgroundRefreshesAreBounded) {
  ReadThroughOptions bounded;
  bounded.max_background_refreshes = 1;
  auto rt = engine(bounded);
  rt->refresh(key_, counted("a"));
  rt->refresh(CacheKey{"default", KeyKind::kPlan, "other"}, counted("b"));
  EXPECT_EQ(rt->stats().refreshes, 1u);
  EXPECT_EQ(rt->stats().refreshes_skipped, 1u);
  EXPECT_EQ(manual_.run_all(), 1u);
  rt->refresh(CacheKey{"default", KeyKind::kPlan, "other"}, counted("b"));
  EXPECT_EQ(rt->stats().refreshes, 2u) << "a slot is free again";
  manual_.run_all();
}

TEST_F(ReadThroughEngineTest, TheHotKeyTableIsBounded) {
  ReadThroughOptions small = refresh_ahead(10'000, 2);
  small.max_hot_keys = 2;
  auto rt = engine(small);
  const CacheKey a{"default", KeyKind::kPlan, "a"}, b{"default", KeyKind::kPlan, "b"},
      c{"default", KeyKind::kPlan, "c"};
  const EntryPtr entry = make_entry(bytes("x"), clock_->now_ms(), 60'000);
  clock_->advance_ms(51'000);
  EXPECT_FALSE(rt->note_hit(a, *entry));
  EXPECT_FALSE(rt->note_hit(b, *entry));
  EXPECT_FALSE(rt->note_hit(c, *entry)) << "the full table is cleared";
  EXPECT_FALSE(rt->note_hit(a, *entry)) << "a's count started over";
  EXPECT_TRUE(rt->note_hit(a, *entry));
}

TEST_F(ReadThroughEngineTest, StaleIfErrorAnswersTheStaleEntryForAFailedCompute) {
  NamespacePolicy lane = policies_->get("default");
  lane.read_through.stale_if_error_s = 60;
  ASSERT_TRUE(policies_->set("default", lane).is_ok());
  auto rt = engine();
  const EntryPtr stale = make_entry(bytes("old"), clock_->now_ms(), 1000, 0, {}, 60'000);
  clock_->advance_ms(1500);
  Outcomes outcomes;
  rt->join(key_, [] { return Result<Computed>(Status::bad_gateway("down")); }, stale,
           outcomes.sink());
  manual_.run_all();
  ASSERT_EQ(outcomes.got.size(), 1u);
  EXPECT_TRUE(outcomes.got[0].stale);
  EXPECT_EQ(outcomes.got[0].entry, stale);
  EXPECT_EQ(rt->stats().stale_served, 1u);
}

TEST_F(ReadThroughEngineTest, StopAnswersUnavailableAndCallsOnOverdue) {
  auto rt = engine();
  Outcomes running;
  rt->join(key_, counted("v"), nullptr, running.sink());
  std::mutex mu;  // guards overdue
  std::condition_variable cv;
  bool overdue = false;
  rt->stop(std::chrono::milliseconds(0), [&] {
    std::lock_guard lock(mu);
    overdue = true;
    cv.notify_all();
  });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return overdue; }));
  }
  Outcomes late;
  rt->join(CacheKey{"default", KeyKind::kPlan, "late"}, counted("x"), nullptr, late.sink());
  ASSERT_EQ(late.got.size(), 1u) << "answered at once";
  EXPECT_EQ(late.got[0].error.code(), StatusCode::kUnavailable);
  manual_.run_all();
  EXPECT_EQ(running.got.size(), 1u);
}

TEST_F(ReadThroughEngineTest, ValuesBelowTheMinComputeTimeAreReturnedNotStored) {
  NamespacePolicy lane = policies_->get("default");
  lane.min_compute_ms = 1;  // the FakeClock measures every compute as 0 ms
  ASSERT_TRUE(policies_->set("default", lane).is_ok());
  auto r = cache_->get_or_compute(key_, counted("v"));
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r->entry->value, "v");
  EXPECT_FALSE(cache_->get(key_).hit());
}

TEST(SyncPointTest, DisabledPointsDoNothing) {
  std::atomic<int> calls{0};
  SyncPoint::instance().set_callback("Test::Point", [&](void*) { calls.fetch_add(1); });
  PLANCACHE_SYNC_POINT("Test::Point");
  EXPECT_EQ(calls.load(), 0);
  SyncPoint::instance().enable();
  PLANCACHE_SYNC_POINT("Test::Point");
  EXPECT_EQ(calls.load(), 1);
  SyncPoint::instance().disable();
}

TEST(SyncPointTest, ADependencyOrdersTwoThreads) {
  std::vector<int> order;
  std::mutex mu;  // guards order
  SyncPoint::instance().load_dependencies({{"Test::First", "Test::Second"}});
  SyncPoint::instance().enable();
  std::thread second([&] {
    PLANCACHE_SYNC_POINT("Test::Second");
    std::lock_guard lock(mu);
    order.push_back(2);
  });
  {
    std::lock_guard lock(mu);
    order.push_back(1);
  }
  PLANCACHE_SYNC_POINT("Test::First");
  second.join();
  SyncPoint::instance().disable();
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

}  // namespace
}  // namespace plancache::internal
