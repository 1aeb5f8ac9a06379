#include "plancache/namespace_policy.h"

#include <gtest/gtest.h>

#include "cache/namespaced_tier.h"
#include "plancache/cache.h"

namespace plancache {
namespace {

BytesPtr bytes(std::string s) { return std::make_shared<const Bytes>(std::move(s)); }

TEST(NamespaceName, RejectsHostileNames) {
  EXPECT_TRUE(validate_namespace_name("docs").is_ok());
  EXPECT_TRUE(validate_namespace_name("team-a.v2_x").is_ok());
  for (std::string_view bad : {"", "../x", "a/b", ".hidden", "-x", "a b", "a\nb",
                               "\xc3\xa9t\xc3\xa9"}) {
    EXPECT_EQ(validate_namespace_name(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(validate_namespace_name(std::string(65, 'a')).is_ok());
  EXPECT_TRUE(validate_namespace_name(std::string(64, 'a')).is_ok());
}

TEST(NamespacePolicies, ReadThroughFieldsDefaultToOff) {
  const NamespacePolicy p;
  EXPECT_EQ(p.read_through.stale_while_revalidate_s, 0);
  EXPECT_EQ(p.read_through.stale_if_error_s, 0);
  EXPECT_EQ(p.read_through.stale_grace_ms(), 0);
  // (A lane's planner is the server's: ConfigTest.NamespacePlannerIsOneOfUrlOrCommand.)
}

TEST(NamespacePolicies, PresetsAndFallback) {
  NamespacePolicies p;
  for (auto name : {"default", "docs", "standard", "heavy", "checkpoints"}) {
    EXPECT_TRUE(p.configured(name)) << name;
  }
  EXPECT_FALSE(p.configured("mine"));
  EXPECT_EQ(&p.get("mine"), &p.get("default"));
  EXPECT_EQ(p.get("checkpoints").default_ttl_ms, 0) << "checkpoints never expire";
  EXPECT_FALSE(p.get("checkpoints").uses(TierKind::kShared));
  EXPECT_GT(p.get("docs").default_ttl_ms, p.get("standard").default_ttl_ms);
}

TEST(NamespacePolicies, SetValidates) {
  NamespacePolicies p;
  NamespacePolicy bad;
  // An unknown tier name cannot reach a policy any more: it is a TierKind.
  EXPECT_EQ(parse_tier_kind("l9").status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(parse_tier_kind("l9").status().message().find("l9"), std::string::npos);
  EXPECT_EQ(*parse_tier_kind("shared"), TierKind::kShared);
  bad.tiers = {};
  EXPECT_FALSE(p.set("mine", bad).is_ok()) << "no tier at all";
  bad.tiers = {TierKind::kMemory};
  bad.default_ttl_ms = -1;
  EXPECT_FALSE(p.set("mine", bad).is_ok());
  bad.default_ttl_ms = 0;
  bad.read_through.stale_while_revalidate_s = -1;
  EXPECT_NE(p.set("mine", bad).message().find("stale_while_revalidate_s"), std::string::npos);
  bad.read_through.stale_while_revalidate_s = 0;
  bad.read_through.stale_if_error_s = -1;
  EXPECT_NE(p.set("mine", bad).message().find("stale_if_error_s"), std::string::npos);
  EXPECT_FALSE(p.configured("mine")) << "a refused policy is not stored";
  EXPECT_FALSE(p.set("../x", NamespacePolicy{}).is_ok());
  NamespacePolicy unbounded;
  unbounded.memory.max_entries = 0;  // 0 = unbounded, as for the memory tier
  unbounded.memory.max_bytes = 0;
  EXPECT_TRUE(p.set("big", unbounded).is_ok());
  EXPECT_TRUE(p.set("mine", NamespacePolicy{}).is_ok());
  EXPECT_TRUE(p.configured("mine"));
}

class PolicyCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto policies = std::make_shared<NamespacePolicies>();
    NamespacePolicy tiny;
    tiny.memory.max_entries = 3;
    tiny.default_ttl_ms = 500;
    tiny.tiers = {TierKind::kMemory};
    tiny.min_compute_ms = 100;
    ASSERT_TRUE(policies->set("tiny", tiny).is_ok());
    MemoryTierOptions base;
    base.clock = clock_;
    auto l1 = internal::new_namespaced_tier(TierKind::kMemory, *policies,
                                            internal::memory_sub_tier_factory(base));
    ASSERT_TRUE(l1.is_ok()) << l1.status().to_string();
    base.name = "l2";
    base.kind = TierKind::kDisk;  // a memory tier standing in for the disk tier
    auto l2 = new_memory_tier(base);
    ASSERT_TRUE(l2.is_ok());
    CacheOptions o;
    o.clock = clock_;
    o.policies = policies;
    o.tiers.push_back(std::move(l1).value());
    o.tiers.push_back(std::move(l2).value());
    cache_ = std::move(new_cache(std::move(o))).value();
  }
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  std::unique_ptr<Cache> cache_;
};

TEST_F(PolicyCacheTest, OneLaneFillingUpDoesNotEvictAnother) {
  const CacheKey keep{"default", KeyKind::kPlan, "keep"};
  ASSERT_TRUE(cache_->put(keep, bytes("1"), {}).is_ok());
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(cache_->put(CacheKey{"tiny", KeyKind::kPlan, std::to_string(i)}, bytes("x"), {})
                    .is_ok());
  }
  EXPECT_TRUE(cache_->get(keep).hit());
  CacheStats s = cache_->stats();
  EXPECT_LE(s.tiers[0].namespaces["tiny"].entries, 3u) << "tiny lane bounded to 3 entries";
  EXPECT_EQ(s.tiers[1].namespaces.count("tiny"), 0u) << "tiny does not use l2";
}

TEST_F(PolicyCacheTest, NamespaceTtlAndUnconfiguredFallBackToDefault) {
  const CacheKey tiny{"tiny", KeyKind::kPlan, "a"};
  const CacheKey other{"unconfigured", KeyKind::kPlan, "a"};
  ASSERT_TRUE(cache_->put(tiny, bytes("1"), {}).is_ok());
  ASSERT_TRUE(cache_->put(other, bytes("1"), {}).is_ok());
  clock_->advance_ms(500);
  EXPECT_FALSE(cache_->get(tiny).hit()) << "tiny's TTL is 500 ms";
  EXPECT_TRUE(cache_->get(other).hit()) << "default TTL is an hour";
}

TEST_F(PolicyCacheTest, MinComputeTimeDecidesWhetherToCache) {
  const CacheKey fast{"tiny", KeyKind::kPlan, "fast"};
  const CacheKey slow{"tiny", KeyKind::kPlan, "slow"};
  auto computed = [](uint32_t ms) {
    return [ms] {
      Computed c{std::make_shared<const Bytes>("p"), {}, true};
      c.options.compute_ms = ms;
      return Result<Computed>(c);
    };
  };
  ASSERT_TRUE(cache_->get_or_compute(fast, computed(99)).is_ok());
  ASSERT_TRUE(cache_->get_or_compute(slow, computed(100)).is_ok());
  EXPECT_FALSE(cache_->get(fast).hit()) << "took less than min_compute_ms: not cached";
  EXPECT_TRUE(cache_->get(slow).hit());
}

TEST_F(PolicyCacheTest, InvalidateByNamespaceReachesOnlyThatLane) {
  ASSERT_TRUE(cache_->put(CacheKey{"tiny", KeyKind::kPlan, "a"}, bytes("1"), {}).is_ok());
  ASSERT_TRUE(cache_->put(CacheKey{"docs", KeyKind::kPlan, "a"}, bytes("1"), {}).is_ok());
  Selector s;
  s.ns = "tiny";
  auto n = cache_->invalidate(s);
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(*n, 1u);
  EXPECT_TRUE(cache_->get(CacheKey{"docs", KeyKind::kPlan, "a"}).hit());
}

}  // namespace
}  // namespace plancache
