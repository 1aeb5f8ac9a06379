// NamespacedTier and MultiTierCache agree on a failing part (cache/fan_out.h):
// a failing lane is treated as the cache treats a failing tier.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cache/namespaced_tier.h"
#include "plancache/cache.h"
#include "plancache/memory_tier.h"
#include "support/broken_tier.h"

namespace plancache {
namespace {

using testing::BrokenTier;

BytesPtr bytes(std::string s) { return std::make_shared<const Bytes>(std::move(s)); }
CacheKey user(std::string_view ns, std::string_view id) { return CacheKey(ns, KeyKind::kUser, id); }

std::vector<std::string> keys(const std::vector<ListedEntry>& rows) {
  std::vector<std::string> out;
  for (const ListedEntry& row : rows) out.push_back(std::string(row.key.ns()) + "/" +
                                                    std::string(row.key.id()));
  return out;
}

constexpr unsigned kFanOutOps = BrokenTier::kInvalidate | BrokenTier::kEvict | BrokenTier::kList;

// L1 with a lane per preset (default, docs, heavy, ...), every lane's memory
// tier wrapped in a BrokenTier so that a test can break any of them.
class NamespacedTierFailureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MemoryTierOptions base;
    base.clock = clock_;
    internal::SubTierFactory memory = internal::memory_sub_tier_factory(base);
    auto breakable = [&](const std::string& ns,
                         const NamespacePolicy& policy) -> Result<std::unique_ptr<Tier>> {
      Result<std::unique_ptr<Tier>> made = memory(ns, policy);
      if (!made.is_ok()) return made.status();
      auto lane = std::make_unique<BrokenTier>(std::move(made).value());
      lanes_[ns] = lane.get();
      return std::unique_ptr<Tier>(std::move(lane));
    };
    auto made = internal::new_namespaced_tier(TierKind::kMemory, NamespacePolicies(), breakable);
    ASSERT_TRUE(made.is_ok()) << made.status().to_string();
    tier_ = std::move(made).value();
    for (const char* ns : {"docs", "heavy", "invented"}) {
      ASSERT_TRUE(tier_->put(user(ns, "k"), make_entry(bytes("1"), 1, 0)).is_ok());
    }
  }
  bool has(const CacheKey& key) {
    Result<EntryPtr> r = tier_->get(key);
    return r.is_ok() && *r != nullptr;
  }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  std::map<std::string, BrokenTier*> lanes_;  // owned by tier_
  std::unique_ptr<Tier> tier_;
};

TEST_F(NamespacedTierFailureTest, ListingSkipsAFailingLaneUnlessAllFail) {
  lanes_.at("heavy")->fail(kFanOutOps);
  auto rows = tier_->list(Selector{}, 10);
  ASSERT_TRUE(rows.is_ok()) << rows.status().to_string();
  EXPECT_EQ(keys(*rows), (std::vector<std::string>{"docs/k", "invented/k"}));
  for (auto& [ns, lane] : lanes_) lane->fail(kFanOutOps);
  EXPECT_EQ(tier_->list(Selector{}, 10).status().code(), StatusCode::kUnavailable);
}

TEST_F(NamespacedTierFailureTest, CountsReachEveryLaneThenReportTheError) {
  lanes_.at("docs")->fail(kFanOutOps);  // the first lane in key order
  EXPECT_EQ(tier_->invalidate(Selector{}).status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(has(user("docs", "k")));
  EXPECT_FALSE(has(user("heavy", "k"))) << "the lanes after the failing one were invalidated";
  EXPECT_FALSE(has(user("invented", "k")));
  EXPECT_EQ(tier_->evict_fraction(1.0).status().code(), StatusCode::kUnavailable);
  lanes_.at("docs")->fail(0);
  EXPECT_EQ(*tier_->invalidate(Selector{}), 1u);
}

// The same situations one level up: a cache whose second tier fails.
TEST(CacheFailureAgreement, TheCacheTreatsAFailingTierTheSameWay) {
  auto clock = std::make_shared<FakeClock>();
  MemoryTierOptions o;
  o.clock = clock;
  auto l2 = std::make_unique<BrokenTier>(std::move(new_memory_tier(o)).value());
  BrokenTier* broken = l2.get();
  std::unique_ptr<Tier> l1 = std::move(new_memory_tier(o)).value();
  Tier* healthy = l1.get();
  CacheOptions options;
  options.clock = clock;
  options.tiers.push_back(std::move(l1));
  options.tiers.push_back(std::move(l2));
  auto cache = std::move(new_cache(std::move(options))).value();
  ASSERT_TRUE(cache->put(user("docs", "k"), bytes("1"), {}).is_ok());

  broken->fail(kFanOutOps);
  auto rows = cache->list(Selector{}, 10);
  ASSERT_TRUE(rows.is_ok()) << rows.status().to_string();
  EXPECT_EQ(keys(*rows), (std::vector<std::string>{"docs/k"}));
  EXPECT_EQ(cache->invalidate(Selector{}).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(*healthy->get(user("docs", "k")), nullptr) << "the healthy tier was invalidated";
  EXPECT_EQ(cache->evict_fraction(1.0).status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace plancache
