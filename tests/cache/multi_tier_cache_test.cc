#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "plancache/cache.h"
#include "plancache/memory_tier.h"
#include "support/broken_tier.h"

namespace plancache {
namespace {

BytesPtr bytes(std::string s) { return std::make_shared<const Bytes>(std::move(s)); }

std::unique_ptr<Tier> memory(std::shared_ptr<Clock> clock, std::string name,
                             uint64_t max_entries = 1000) {
  MemoryTierOptions o;
  o.clock = std::move(clock);
  // A memory tier named "l2" or "shared" stands in for that layer.
  if (Result<TierKind> kind = parse_tier_kind(name); kind.is_ok()) o.kind = *kind;
  o.name = std::move(name);
  o.max_entries = max_entries;
  o.shards = 4;
  auto r = new_memory_tier(std::move(o));
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return std::move(r).value();
}

using testing::BrokenTier;  // fails every call: stands for an unreachable external tier

// Polls `cond` until true or a generous deadline; fails the test on timeout.
template <typename Cond>
void await(Cond cond) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!cond()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "condition never became true";
    std::this_thread::yield();
  }
}

class CacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CacheOptions o;
    o.clock = clock_;
    o.default_ttl_ms = 60'000;
    o.tiers.push_back(memory(clock_, "l1"));
    o.tiers.push_back(memory(clock_, "l2"));
    auto r = new_cache(std::move(o));
    ASSERT_TRUE(r.is_ok());
    cache_ = std::move(r).value();
  }
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  std::unique_ptr<Cache> cache_;
  const CacheKey key_{"default", KeyKind::kPlan, "k1"};
};

TEST_F(CacheTest, PutThenGetReturnsTheSameBufferFromL1) {
  BytesPtr plan = bytes(R"({"tasks":[1,2]})");
  ASSERT_TRUE(cache_->put(key_, plan, {}).is_ok());
  Lookup hit = cache_->get(key_);
  ASSERT_TRUE(hit.hit());
  EXPECT_EQ(hit.tier, "l1");
  EXPECT_EQ(hit.entry->value.get(), plan.get()) << "a memory hit must not copy the payload";
  EXPECT_EQ(hit.entry->meta.expires_ms, clock_->now_ms() + 60'000);
}

TEST_F(CacheTest, LowerTierHitIsPromoted) {
  CacheOptions o;
  o.clock = clock_;
  o.tiers.push_back(memory(clock_, "l1"));
  auto l2 = memory(clock_, "l2");
  ASSERT_TRUE(l2->put(key_, make_entry(bytes("2"), clock_->now_ms(), 1000)).is_ok());
  o.tiers.push_back(std::move(l2));
  auto cache = std::move(new_cache(std::move(o))).value();

  Lookup first = cache->get(key_);
  ASSERT_TRUE(first.hit());
  EXPECT_EQ(first.tier, "l2");
  Lookup second = cache->get(key_);
  EXPECT_EQ(second.tier, "l1");
  EXPECT_EQ(second.entry, first.entry) << "promotion keeps the same entry and expiry";
  EXPECT_EQ(cache->stats().promotions, 1u);
}

TEST_F(CacheTest, TtlExpiresAndZeroMeansForever) {
  PutOptions short_ttl;
  short_ttl.ttl_ms = 1000;
  ASSERT_TRUE(cache_->put(key_, bytes("1"), short_ttl).is_ok());
  const CacheKey forever{"default", KeyKind::kPlan, "k2"};
  PutOptions no_ttl;
  no_ttl.ttl_ms = 0;
  ASSERT_TRUE(cache_->put(forever, bytes("2"), no_ttl).is_ok());
  clock_->advance_ms(999);
  EXPECT_TRUE(cache_->get(key_).hit());
  clock_->advance_ms(1);
  EXPECT_FALSE(cache_->get(key_).hit());
  clock_->advance_ms(100LL * 24 * 3600 * 1000);
  EXPECT_TRUE(cache_->get(forever).hit());
}

TEST_F(CacheTest, StaleEntriesAreMissesUnlessAskedFor) {
  PutOptions graced;
  graced.ttl_ms = 1000;
  graced.stale_grace_ms = 5000;
  ASSERT_TRUE(cache_->put(key_, bytes("old"), graced).is_ok());
  const GetOptions allow{.allow_stale = true};
  clock_->advance_ms(999);
  Lookup fresh = cache_->get(key_, allow);
  ASSERT_TRUE(fresh.hit());
  EXPECT_FALSE(fresh.stale);
  clock_->advance_ms(1);
  EXPECT_FALSE(cache_->get(key_).hit()) << "a stale entry is a miss for a plain get";
  Lookup stale = cache_->get(key_, allow);
  ASSERT_TRUE(stale.hit());
  EXPECT_TRUE(stale.stale);
  EXPECT_EQ(*stale.entry->value, "old");

  // get_or_compute never serves it: it recomputes.
  int runs = 0;
  auto computed = cache_->get_or_compute(key_, [&]() -> Result<Computed> {
    ++runs;
    return Computed{bytes("new"), graced};
  });
  ASSERT_TRUE(computed.is_ok());
  EXPECT_EQ(runs, 1);
  EXPECT_FALSE(computed->cached);
  EXPECT_EQ(*cache_->get(key_).entry->value, "new");

  clock_->advance_ms(6000);
  EXPECT_FALSE(cache_->get(key_, allow).hit()) << "gone after the grace period";
}

TEST_F(CacheTest, NegativeTtlIsRejected) {
  PutOptions bad;
  bad.ttl_ms = -1;
  EXPECT_EQ(cache_->put(key_, bytes("1"), bad).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cache_->put(key_, nullptr, {}).code(), StatusCode::kInvalidArgument);
}

TEST_F(CacheTest, InvalidationReachesEveryTier) {
  PutOptions tagged;
  tagged.tags = {"deploy-42"};
  ASSERT_TRUE(cache_->put(key_, bytes("1"), tagged).is_ok());
  const CacheKey other{"default", KeyKind::kPlan, "k2"};
  ASSERT_TRUE(cache_->put(other, bytes("2"), {}).is_ok());
  Selector by_tag;
  by_tag.tag = "deploy-42";
  auto n = cache_->invalidate(by_tag);
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(*n, 1u) << "an entry in two tiers counts once";
  EXPECT_FALSE(cache_->get(key_).hit()) << "must not be promoted back from l2";
  EXPECT_TRUE(cache_->get(other).hit());
  for (const auto& t : cache_->stats().tiers) EXPECT_EQ(t.entries, 1u) << t.name;
}

TEST_F(CacheTest, InvalidSelectorsAndFractionsAreRejected) {
  Selector bad;
  bad.pattern = "[unterminated";
  EXPECT_EQ(cache_->invalidate(bad).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cache_->evict_fraction(0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cache_->evict_fraction(1.5).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(CacheTest, ClearEmptiesEveryTier) {
  ASSERT_TRUE(cache_->put(key_, bytes("1"), {}).is_ok());
  ASSERT_TRUE(cache_->clear().is_ok());
  EXPECT_FALSE(cache_->get(key_).hit());
  for (const auto& t : cache_->stats().tiers) EXPECT_EQ(t.entries, 0u);
}

TEST_F(CacheTest, StatsCountHitsMissesAndLatency) {
  ASSERT_TRUE(cache_->put(key_, bytes("1"), {}).is_ok());
  (void)cache_->get(key_);
  (void)cache_->get(CacheKey{"default", KeyKind::kPlan, "absent"});
  CacheStats s = cache_->stats();
  EXPECT_EQ(s.gets, 2u);
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_DOUBLE_EQ(s.hit_rate(), 0.5);
  EXPECT_EQ(s.get_latency.count, 2u);
}

TEST(CacheDegradation, BrokenTierIsSkippedNotFatal) {
  auto clock = std::make_shared<FakeClock>();
  CacheOptions o;
  o.clock = clock;
  o.tiers.push_back(memory(clock, "l1"));
  auto broken = std::make_unique<BrokenTier>();
  o.tiers.push_back(std::move(broken));
  auto cache = std::move(new_cache(std::move(o))).value();
  const CacheKey key{"default", KeyKind::kPlan, "x"};

  EXPECT_FALSE(cache->get(key).hit()) << "a failing lower tier is a miss, not an error";
  EXPECT_EQ(cache->put(key, bytes("1"), {}).code(), StatusCode::kUnavailable)
      << "put reports the broken tier";
  EXPECT_FALSE(cache->get(key).hit())
      << "a failed put leaves nothing in a faster tier (served as if it had been stored)";
  const CacheKey y{"default", KeyKind::kPlan, "y"};
  auto computed = cache->get_or_compute(y, [] {
    return Result<Computed>(Computed{bytes("2"), {}, true});
  });
  ASSERT_TRUE(computed.is_ok()) << "the caller still gets the computed value";
  EXPECT_FALSE(computed->cached);
  EXPECT_FALSE(cache->get(y).hit()) << "but it was not stored: the slower tier refused it";
  EXPECT_GT(cache->stats().tiers[1].errors, 0u);
}

TEST(CacheDegradation, FailedPutKeepsFasterTiersInStepWithTheSlowerOne) {
  auto clock = std::make_shared<FakeClock>();
  CacheOptions o;
  o.clock = clock;
  o.tiers.push_back(memory(clock, "l1"));
  auto l2 = std::make_unique<BrokenTier>(memory(clock, "l2"));  // a disk that may refuse puts
  BrokenTier* refusing = l2.get();
  o.tiers.push_back(std::move(l2));
  auto cache = std::move(new_cache(std::move(o))).value();
  const CacheKey key{"default", KeyKind::kPlan, "x"};
  ASSERT_TRUE(cache->put(key, bytes("old"), {}).is_ok());
  refusing->fail(BrokenTier::kPut);
  EXPECT_EQ(cache->put(key, bytes("new"), {}).code(), StatusCode::kUnavailable);
  Lookup found = cache->get(key);
  ASSERT_TRUE(found.hit());
  EXPECT_EQ(*found.entry->value, "old") << "the refused value is served nowhere";
  EXPECT_EQ(found.tier, "l2") << "l1 dropped the key, so what is served is what l2 holds";
  refusing->fail(0);
  ASSERT_TRUE(cache->put(key, bytes("new"), {}).is_ok());
  EXPECT_EQ(*cache->get(key).entry->value, "new");
  EXPECT_EQ(cache->get(key).tier, "l1");
}

TEST(CacheOptionsValidation, NeedsTiers) {
  EXPECT_EQ(new_cache(CacheOptions{}).status().code(), StatusCode::kInvalidArgument);
  CacheOptions with_null;
  with_null.tiers.push_back(nullptr);
  EXPECT_EQ(new_cache(std::move(with_null)).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace plancache
