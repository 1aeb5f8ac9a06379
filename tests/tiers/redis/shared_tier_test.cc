// The shared tier between instances: plans and invalidations seen across
// them, on the test command's standalone Redis and on its Cluster.
#include <gtest/gtest.h>

#include "support/redis_fixture.h"
#include "support/redis_process.h"
#include "tiers/redis/instances.h"
#include "tiers/redis/redis_keys.h"

namespace plancache::test {
namespace {

class SharedTier : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    const RedisFixtureUrls urls = redis_fixture_urls();
    ASSERT_FALSE(urls.standalone.empty());
    url_ = GetParam() ? urls.cluster : urls.standalone;
    prefix_ = fresh_prefix(GetParam() ? "c" : "s");
    a_ = std::make_unique<Instance>(InstanceOptions{.url = url_, .prefix = prefix_});
    b_ = std::make_unique<Instance>(InstanceOptions{.url = url_, .prefix = prefix_});
    ASSERT_TRUE(eventually([&] { return a_->connected() && b_->connected(); }))
        << "listeners did not subscribe: " << a_->shared_stats().shared.state;
  }
  // redis-cli against the node holding `key` (-c follows MOVED in a cluster).
  std::string cli(const std::vector<std::string>& args) {
    const std::string seed = url_.substr(std::string("redis://").size());
    const std::string first = seed.substr(0, seed.find(','));
    std::vector<std::string> argv{"redis-cli", "-c", "-h", "127.0.0.1", "-p",
                                  first.substr(first.find(':') + 1)};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_capture(argv);
  }
  // B holds `key` in its L1 (read through the shared tier; a read that
  // overlaps the write's own invalidation message is not kept, so retry).
  void warm_b(const CacheKey& key) {
    ASSERT_TRUE(eventually([&] { return b_->value(key) != "" && b_->local(key) != nullptr; }));
  }

  std::string url_, prefix_;
  std::unique_ptr<Instance> a_, b_;
};

TEST_P(SharedTier, APutOnOneIsAHitOnTheOtherThenLocal) {
  const CacheKey k = plan_key("docs", "p1");
  ASSERT_TRUE(a_->put(k, R"({"steps":[1]})").is_ok());
  const Lookup first = b_->cache().get(k);
  ASSERT_TRUE(first.hit());
  EXPECT_EQ(first.tier, "shared");
  EXPECT_EQ(*first.entry->value, R"({"steps":[1]})");
  // A shared hit is promoted (unless the read overlapped the put's own
  // invalidation message on its way to B: then the copy is dropped, and
  // the next read promotes it).
  EXPECT_TRUE(eventually([&] { return b_->cache().get(k).tier == "l1"; }));
}

TEST_P(SharedTier, ADeleteOnOneDropsTheOthersLocalCopy) {
  const CacheKey k = plan_key("docs", "del");
  ASSERT_TRUE(a_->put(k, "1").is_ok());
  warm_b(k);
  ASSERT_TRUE(a_->cache().erase(k).is_ok());
  EXPECT_TRUE(eventually([&] { return b_->local(k) == nullptr; }));
  EXPECT_EQ(b_->value(k), "");
}

TEST_P(SharedTier, AnOverwriteOnOneReplacesTheOthersCopy) {
  const CacheKey k = plan_key("docs", "over");
  ASSERT_TRUE(a_->put(k, "old").is_ok());
  warm_b(k);
  ASSERT_TRUE(a_->put(k, "new").is_ok());
  EXPECT_TRUE(eventually([&] { return b_->value(k) == "new"; }));
  EXPECT_EQ(a_->value(k), "new") << "the writer keeps its own write";
}

TEST_P(SharedTier, EveryKindOfInvalidationReachesTheOther) {
  const CacheKey tagged = plan_key("docs", "t1"), untagged = plan_key("docs", "t2");
  const CacheKey step1 = user_key("wf", "workflow:std:step_1"), step2 = user_key("wf", "workflow:hvy:step_1");
  const CacheKey other_ns = plan_key("heavy", "h1");
  ASSERT_TRUE(a_->put(tagged, "1", {"team:x"}).is_ok());
  ASSERT_TRUE(a_->put(untagged, "2").is_ok());
  ASSERT_TRUE(a_->put(step1, "3").is_ok());
  ASSERT_TRUE(a_->put(step2, "4").is_ok());
  ASSERT_TRUE(a_->put(other_ns, "5").is_ok());
  for (const CacheKey& k : {tagged, untagged, step1, step2, other_ns}) warm_b(k);

  Selector by_tag;
  by_tag.tag = "team:x";
  ASSERT_TRUE(a_->cache().invalidate(by_tag).is_ok());
  EXPECT_TRUE(eventually([&] { return b_->local(tagged) == nullptr; }));
  EXPECT_TRUE(eventually([&] { return b_->value(tagged).empty(); })) << "the shared copy is invalid too";
  EXPECT_EQ(b_->value(untagged), "2") << "the untagged plan stays";

  Selector by_prefix;
  by_prefix.prefix = "workflow:std:";
  ASSERT_TRUE(a_->cache().invalidate(by_prefix).is_ok());
  EXPECT_TRUE(eventually([&] { return b_->local(step1) == nullptr; }));
  EXPECT_TRUE(eventually([&] { return b_->value(step1).empty(); }));
  EXPECT_EQ(b_->value(step2), "4");

  Selector by_pattern;
  by_pattern.pattern = "workflow:*:step_?";
  ASSERT_TRUE(a_->cache().invalidate(by_pattern).is_ok());
  EXPECT_TRUE(eventually([&] { return b_->local(step2) == nullptr; }));
  EXPECT_TRUE(eventually([&] { return b_->value(step2).empty(); }));

  Selector by_ns;
  by_ns.ns = "docs";
  ASSERT_TRUE(a_->cache().invalidate(by_ns).is_ok());
  EXPECT_TRUE(eventually([&] { return b_->local(untagged) == nullptr; }));
  EXPECT_TRUE(eventually([&] { return b_->value(untagged).empty(); }));
  EXPECT_EQ(b_->value(other_ns), "5") << "another namespace stays";

  Selector older;
  older.created_before_ms = system_clock()->now_ms() + 1;
  ASSERT_TRUE(a_->cache().invalidate(older).is_ok());
  EXPECT_TRUE(eventually([&] { return b_->local(other_ns) == nullptr; }));
  EXPECT_TRUE(eventually([&] { return b_->value(other_ns).empty(); }));

  const CacheKey fresh = plan_key("heavy", "after");
  ASSERT_TRUE(a_->put(fresh, "6").is_ok());
  EXPECT_EQ(b_->value(fresh), "6") << "entries written after an invalidation are valid";
}

TEST_P(SharedTier, ClearingEverythingReachesTheOther) {
  const CacheKey k1 = plan_key("docs", "c1"), k2 = plan_key("anything", "c2");
  ASSERT_TRUE(a_->put(k1, "1").is_ok());
  ASSERT_TRUE(a_->put(k2, "2").is_ok());
  warm_b(k1);
  warm_b(k2);
  ASSERT_TRUE(a_->cache().clear().is_ok());
  EXPECT_TRUE(eventually([&] { return b_->local(k1) == nullptr && b_->local(k2) == nullptr; }));
  EXPECT_EQ(b_->value(k1), "");
  EXPECT_EQ(b_->value(k2), "");
}

TEST_P(SharedTier, ADelByAnyRedisClientDropsLocalCopies) {
  const CacheKey k = plan_key("docs", "raw");
  ASSERT_TRUE(a_->put(k, "1").is_ok());
  warm_b(k);
  ASSERT_NE(a_->local(k), nullptr);
  const std::string name = internal::RedisKeys(prefix_).entry(k);
  EXPECT_EQ(cli({"DEL", name}), "1");
  EXPECT_TRUE(eventually([&] { return a_->local(k) == nullptr && b_->local(k) == nullptr; }));
}

TEST_P(SharedTier, HostileBytesInRedisAreAMissNeverACrash) {
  const CacheKey k = plan_key("docs", "hostile");
  const std::string name = internal::RedisKeys(prefix_).entry(k);
  for (const std::string& junk : {std::string("garbage"), std::string("PCR1") + std::string(40, '\xff'),
                                  std::string("PCR1") + std::string(32, '\0') + "PCE\x01trunc"}) {
    cli({"SET", name, junk});
    EXPECT_EQ(b_->value(k), "") << "junk: " << junk.size() << " bytes";
  }
  EXPECT_GE(b_->shared_stats().corrupt_entries, 3u);
  ASSERT_TRUE(a_->put(k, "fine").is_ok());
  EXPECT_TRUE(eventually([&] { return b_->value(k) == "fine"; }));
}

INSTANTIATE_TEST_SUITE_P(StandaloneAndCluster, SharedTier, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "cluster" : "standalone"; });

// FLUSHALL by someone else: on a private Redis (the shared one is shared).
TEST(SharedTierFlush, AFlushAllDropsEveryLocalCopy) {
  RedisProcess redis;
  ASSERT_TRUE(redis.ok());
  const std::string prefix = fresh_prefix("f");
  Instance a(InstanceOptions{.url = redis.url(), .prefix = prefix});
  Instance b(InstanceOptions{.url = redis.url(), .prefix = prefix});
  ASSERT_TRUE(eventually([&] { return a.connected() && b.connected(); }));
  const CacheKey k = plan_key("docs", "flushed");
  ASSERT_TRUE(a.put(k, "1").is_ok());
  ASSERT_TRUE(eventually([&] { return b.value(k) == "1" && b.local(k) != nullptr; }));
  EXPECT_EQ(redis.cli({"FLUSHALL"}), "OK");
  EXPECT_TRUE(eventually([&] { return a.local(k) == nullptr && b.local(k) == nullptr; }));
  EXPECT_EQ(b.value(k), "");
}

}  // namespace
}  // namespace plancache::test
