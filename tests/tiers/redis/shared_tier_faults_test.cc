// The shared tier when Redis is not there: frozen, killed, restarted, or
// its listener killed. Nothing fails; nothing deleted meanwhile is served
// after; the tier is back on its own. Private Redis servers only.
#include <gtest/gtest.h>

#include "support/redis_process.h"
#include "tiers/redis/instances.h"

namespace plancache::test {
namespace {

class SharedTierFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.ok());
    const InstanceOptions o{.url = redis_.url(), .prefix = fresh_prefix("x")};
    a_ = std::make_unique<Instance>(o);
    b_ = std::make_unique<Instance>(o);
    ASSERT_TRUE(eventually([&] { return a_->connected() && b_->connected(); }));
  }
  RedisProcess redis_;
  std::unique_ptr<Instance> a_, b_;
};

TEST_F(SharedTierFaults, AFrozenRedisFailsNothingAndComesBack) {
  const CacheKey warm = plan_key("docs", "warm");
  ASSERT_TRUE(a_->put(warm, "1").is_ok());
  redis_.freeze();
  // Reads miss or hit locally, puts succeed locally: no call fails.
  for (int i = 0; i < 20; ++i) {
    const CacheKey k = plan_key("docs", "during" + std::to_string(i));
    EXPECT_TRUE(a_->put(k, "v").is_ok());
    (void)a_->cache().get(plan_key("docs", "absent" + std::to_string(i)));
  }
  EXPECT_TRUE(eventually([&] { return a_->shared_stats().shared.breaker == "open"; }));
  EXPECT_EQ(a_->value(plan_key("docs", "during19")), "v") << "kept locally meanwhile";
  redis_.thaw();
  EXPECT_TRUE(eventually([&] { return a_->connected() && b_->connected(); }))
      << a_->shared_stats().shared.state;
  EXPECT_GE(a_->shared_stats().shared.breaker_opens, 1u);
}

TEST_F(SharedTierFaults, NothingDeletedDuringAnOutageIsServedAfterIt) {
  const CacheKey k = plan_key("docs", "doomed");
  ASSERT_TRUE(a_->put(k, "old").is_ok());
  ASSERT_TRUE(eventually([&] { return b_->value(k) == "old" && b_->local(k) != nullptr; }));
  redis_.freeze();
  EXPECT_TRUE(a_->cache().erase(k).is_ok()) << "an erase never fails because Redis is down";
  EXPECT_TRUE(eventually([&] { return b_->local(k) == nullptr; }))
      << "B drops its copies when its listener's heartbeat goes unanswered";
  redis_.thaw();
  ASSERT_TRUE(eventually([&] {
    return a_->connected() && a_->shared_stats().shared.pending_invalidations == 0;
  })) << a_->shared_stats().shared.state << ", pending "
      << a_->shared_stats().shared.pending_invalidations;
  EXPECT_TRUE(eventually([&] { return b_->connected(); }));
  EXPECT_EQ(b_->value(k), "");
  EXPECT_EQ(a_->value(k), "");
}

TEST_F(SharedTierFaults, ARestartedRedisIsUsedAgain) {
  redis_.kill9();
  const CacheKey k = plan_key("docs", "after-restart");
  EXPECT_TRUE(a_->put(k, "local").is_ok());
  ASSERT_TRUE(redis_.restart());
  ASSERT_TRUE(eventually([&] { return a_->connected() && b_->connected(); }));
  ASSERT_TRUE(a_->put(k, "shared").is_ok());
  EXPECT_EQ(b_->value(k), "shared");
}

TEST_F(SharedTierFaults, AKilledListenerFlushesAndResubscribes) {
  const CacheKey k = plan_key("docs", "listened");
  ASSERT_TRUE(a_->put(k, "1").is_ok());
  ASSERT_TRUE(eventually([&] { return b_->value(k) == "1" && b_->local(k) != nullptr; }));
  const uint64_t flushes = b_->shared_stats().shared.flushes_received;
  EXPECT_NE(redis_.cli({"CLIENT", "KILL", "TYPE", "pubsub"}), "0");
  EXPECT_TRUE(eventually([&] { return b_->shared_stats().shared.flushes_received > flushes; }));
  EXPECT_EQ(b_->local(k), nullptr) << "a lost listener drops the shared-derived copies";
  EXPECT_TRUE(eventually([&] { return b_->connected(); }, std::chrono::milliseconds(1000)))
      << "resubscribed within 1 s";
  // And invalidations flow again.
  ASSERT_TRUE(eventually([&] { return b_->value(k) == "1" && b_->local(k) != nullptr; }));
  ASSERT_TRUE(a_->cache().erase(k).is_ok());
  EXPECT_TRUE(eventually([&] { return b_->local(k) == nullptr; }));
}

// A flush drops only what came from (or went to) the shared tier: a lane
// that does not use it keeps its entries.
TEST(SharedTierFlushScope, ALostListenerKeepsLanesThatDoNotShare) {
  RedisProcess redis;
  ASSERT_TRUE(redis.ok());
  auto policies = std::make_shared<NamespacePolicies>();  // checkpoints: l1, l2 only
  InstanceOptions o{.url = redis.url(), .prefix = fresh_prefix("k")};
  o.policies = policies;
  Instance a(o);
  ASSERT_TRUE(eventually([&] { return a.connected(); }));
  const CacheKey mine = user_key("checkpoints", "deploy:step_5");
  const CacheKey shared = plan_key("docs", "shared plan");
  ASSERT_TRUE(a.put(mine, "\"snapshot\"").is_ok());
  ASSERT_TRUE(a.put(shared, "1").is_ok());
  ASSERT_TRUE(eventually([&] { return a.local(shared) != nullptr; }));
  const uint64_t flushes = a.shared_stats().shared.flushes_received;
  EXPECT_NE(redis.cli({"CLIENT", "KILL", "TYPE", "pubsub"}), "0");
  ASSERT_TRUE(eventually([&] { return a.shared_stats().shared.flushes_received > flushes; }));
  EXPECT_EQ(a.local(shared), nullptr) << "a shared lane's copy goes";
  EXPECT_NE(a.local(mine), nullptr) << "the checkpoints lane never shared: it stays";
}

}  // namespace
}  // namespace plancache::test
