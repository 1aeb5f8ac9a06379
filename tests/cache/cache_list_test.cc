// Cache::list over several tiers, and the namespaced tier's list routing.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "cache/namespaced_tier.h"
#include "plancache/cache.h"
#include "plancache/memory_tier.h"
#include "support/broken_tier.h"

namespace plancache {
namespace {

BytesPtr bytes(std::string s) { return std::make_shared<const Bytes>(std::move(s)); }
CacheKey user(std::string_view ns, std::string_view id) { return CacheKey(ns, KeyKind::kUser, id); }

std::unique_ptr<Tier> memory(std::shared_ptr<Clock> clock, std::string name) {
  MemoryTierOptions o;
  o.clock = std::move(clock);
  // A memory tier named "l2" or "shared" stands in for that layer.
  if (Result<TierKind> kind = parse_tier_kind(name); kind.is_ok()) o.kind = *kind;
  o.name = std::move(name);
  o.shards = 4;
  return std::move(new_memory_tier(std::move(o))).value();
}

using testing::BrokenTier;  // every call fails (an unreachable external tier)

std::vector<std::string> ids(const std::vector<ListedEntry>& rows) {
  std::vector<std::string> out;
  for (const ListedEntry& row : rows) out.emplace_back(row.key.id());
  return out;
}

Selector in_ns(std::string ns) {
  Selector s;
  s.ns = std::move(ns);
  return s;
}

class CacheListTest : public ::testing::Test {
 protected:
  void make(bool with_broken = false) {
    auto l1 = memory(clock_, "l1");
    auto l2 = memory(clock_, "l2");
    l1_ = l1.get();
    l2_ = l2.get();
    CacheOptions options;
    options.clock = clock_;
    options.tiers.push_back(std::move(l1));
    options.tiers.push_back(std::move(l2));
    if (with_broken) options.tiers.push_back(std::make_unique<BrokenTier>());
    cache_ = std::move(new_cache(std::move(options))).value();
  }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  Tier* l1_ = nullptr;
  Tier* l2_ = nullptr;
  std::unique_ptr<Cache> cache_;
};

TEST_F(CacheListTest, OneRowPerKeyAcrossTiersInKeyOrder) {
  make();
  ASSERT_TRUE(cache_->put(user("n", "b"), bytes("1"), {}).is_ok());  // in both tiers
  const int64_t t0 = clock_->now_ms();
  clock_->advance_ms(5);
  // Only in L2 (as after a restart), and a newer L1-only value of another key.
  ASSERT_TRUE(l2_->put(user("n", "a"), make_entry(bytes("22"), t0, 0)).is_ok());
  ASSERT_TRUE(l1_->put(user("n", "c"), make_entry(bytes("333"), clock_->now_ms(), 0)).is_ok());
  ASSERT_TRUE(cache_->put(user("other", "z"), bytes("1"), {}).is_ok());

  auto rows = cache_->list(in_ns("n"), 10);
  ASSERT_TRUE(rows.is_ok()) << rows.status().to_string();
  EXPECT_EQ(ids(*rows), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ((*rows)[0].value_bytes, 2u);
  EXPECT_EQ((*rows)[0].created_ms, t0);
  EXPECT_EQ((*rows)[2].value_bytes, 3u);
  EXPECT_EQ(ids(*cache_->list(in_ns("n"), 2)), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(cache_->list(Selector{}, 100)->size(), 4u);
}

TEST_F(CacheListTest, TheFastestTiersRowWins) {
  make();
  ASSERT_TRUE(l2_->put(user("n", "k"), make_entry(bytes("old value"), 1, 0)).is_ok());
  ASSERT_TRUE(l1_->put(user("n", "k"), make_entry(bytes("new"), 2, 0)).is_ok());
  auto rows = cache_->list(in_ns("n"), 10);
  ASSERT_TRUE(rows.is_ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].value_bytes, 3u);
  EXPECT_EQ((*rows)[0].created_ms, 2);
}

TEST_F(CacheListTest, AFailingTierIsSkippedUnlessAllFail) {
  make(/*with_broken=*/true);
  ASSERT_TRUE(l1_->put(user("n", "k"), make_entry(bytes("1"), 1, 0)).is_ok());
  auto rows = cache_->list(in_ns("n"), 10);
  ASSERT_TRUE(rows.is_ok()) << rows.status().to_string();
  EXPECT_EQ(ids(*rows), (std::vector<std::string>{"k"}));

  CacheOptions options;
  options.tiers.push_back(std::make_unique<BrokenTier>());
  auto broken = std::move(new_cache(std::move(options))).value();
  EXPECT_EQ(broken->list(Selector{}, 10).status().code(), StatusCode::kUnavailable);
}

TEST_F(CacheListTest, MalformedSelectorIsInvalidArgument) {
  make();
  Selector bad;
  bad.tag = "";
  EXPECT_EQ(cache_->list(bad, 10).status().code(), StatusCode::kInvalidArgument);
}

TEST(NamespacedTierListTest, RoutesByNamespaceAndMergesWithout) {
  NamespacePolicies policies;  // presets: default, docs, standard, heavy, checkpoints
  MemoryTierOptions base;
  base.shards = 1;
  auto made =
      internal::new_namespaced_tier(TierKind::kMemory, policies, internal::memory_sub_tier_factory(base));
  ASSERT_TRUE(made.is_ok()) << made.status().to_string();
  Tier& tier = **made;
  for (const auto& [ns, id] : std::vector<std::pair<std::string, std::string>>{
           {"docs", "d1"}, {"heavy", "h1"}, {"invented", "i1"}, {"docs", "d0"}}) {
    ASSERT_TRUE(tier.put(user(ns, id), make_entry(bytes("1"), 1, 0)).is_ok());
  }
  EXPECT_EQ(ids(*tier.list(in_ns("docs"), 10)), (std::vector<std::string>{"d0", "d1"}));
  // An unconfigured namespace lives in the default sub-tier with others.
  EXPECT_EQ(ids(*tier.list(in_ns("invented"), 10)), (std::vector<std::string>{"i1"}));
  EXPECT_EQ(ids(*tier.list(Selector{}, 10)), (std::vector<std::string>{"d0", "d1", "h1", "i1"}));
  EXPECT_EQ(ids(*tier.list(Selector{}, 3)), (std::vector<std::string>{"d0", "d1", "h1"}));
}

}  // namespace
}  // namespace plancache
